# cmake -P test of cmake/EdgeroofCudaArchs.cmake: which CUDA archs each combination of user input,
# visible GPU, CMake version and nvcc gets, and why. The GPU and nvcc are fakes on PATH that print
# what the real programs print (tests/cmake/fake/). Every failed check is one line; the test fails
# with the count at the end.
cmake_minimum_required(VERSION 3.18)  # the project's policies, IN_LIST among them
if(NOT EDGEROOF_SOURCE_DIR)
  message(FATAL_ERROR "test_cuda_archs.cmake: run with -DEDGEROOF_SOURCE_DIR=<edgeroof source tree>")
endif()
include(${EDGEROOF_SOURCE_DIR}/cmake/EdgeroofCudaArchs.cmake)
set(fake ${CMAKE_CURRENT_LIST_DIR}/fake)
include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

# gpu_on_path(<out> <fake dir>): what edgeroof_cuda_visible_gpu() sees with only that dir on PATH.
function(gpu_on_path out dir)
  set(saved "$ENV{PATH}")
  set(ENV{PATH} "${dir}")
  edgeroof_cuda_visible_gpu(gpu)
  set(ENV{PATH} "${saved}")
  set(${out} "${gpu}" PARENT_SCOPE)
endfunction()

# The GPU probe on nvidia-smi's real outputs: the first GPU's name without its UUID, or none.
gpu_on_path(h200 ${fake}/gpu)
expect("nvidia-smi lists two GPUs" "${h200}" "GPU 0: NVIDIA H200")
gpu_on_path(gpu ${fake}/nodriver)
expect("nvidia-smi without a driver" "${gpu}" "")
gpu_on_path(gpu ${fake}/nodevice)
expect("nvidia-smi without devices" "${gpu}" "")
gpu_on_path(gpu ${fake}/no-such-dir)
expect("no nvidia-smi at all" "${gpu}" "")

# What nvcc can build: its own list, else the version table, else unknown.
edgeroof_cuda_supported_archs(cuda13 COMPILER ${fake}/nvcc13/nvcc VERSION 13.0.88)
expect("nvcc 13.0 --list-gpu-arch" "${cuda13}" "75;80;86;87;88;89;90;100;110;103;120;121")
edgeroof_cuda_supported_archs(archs COMPILER ${fake}/nvcc102/nvcc VERSION 10.2.300)
expect("nvcc 10.2 by its version" "${archs}" "70;72;75")
edgeroof_cuda_supported_archs(archs COMPILER ${fake}/nvcc102/nvcc VERSION 11.4.315)
expect("nvcc 11.4 by its version" "${archs}" "70;72;75;80;86;87")
edgeroof_cuda_supported_archs(archs COMPILER ${fake}/nvcc102/nvcc)
expect("nvcc without list or version" "${archs}" "")

set(full "70-real;72-real;75-real;80-real;86-real;87-real;89-real;90")

# check(<name> <archs> <reason> <why> ARGS...): one call of the selection and its three answers.
function(check name archs reason why)
  edgeroof_select_cuda_archs(got_archs got_reason got_why ${ARGN})
  expect("${name}: archs" "${got_archs}" "${archs}")
  expect("${name}: reason" "${got_reason}" "${reason}")
  expect("${name}: why" "${got_why}" "${why}")
  set(failures ${failures} PARENT_SCOPE)
endfunction()

check("-DCMAKE_CUDA_ARCHITECTURES=87 beats CUDAARCHS and a GPU" "87" given "given as CMAKE_CUDA_ARCHITECTURES"
      CMAKE_VERSION 3.25.1 CACHED 87 CUDAARCHS 75 GPU "${h200}" SUPPORTED ${cuda13})
check("a given list is kept as written, unsupported or not" "70;72-real;90-virtual" given
      "given as CMAKE_CUDA_ARCHITECTURES" CMAKE_VERSION 3.25.1 CACHED 70 72-real 90-virtual SUPPORTED ${cuda13})
check("CUDAARCHS" "75;86" CUDAARCHS "from the CUDAARCHS environment variable"
      CMAKE_VERSION 3.25.1 CUDAARCHS 75 86 GPU "${h200}" SUPPORTED ${cuda13})
check("CUDAARCHS, cached by CMake on a first configure" "86" CUDAARCHS "from the CUDAARCHS environment variable"
      CMAKE_VERSION 3.25.1 CACHED 86 CUDAARCHS 86)
check("CUDAARCHS replaces a list this build chose" "89" CUDAARCHS "from the CUDAARCHS environment variable"
      CMAKE_VERSION 3.25.1 CACHED ${full} OURS ${full} CUDAARCHS 89)
check("nothing given, GPU visible" "native" native "native for GPU 0: NVIDIA H200"
      CMAKE_VERSION 3.25.1 GPU "${h200}" SUPPORTED ${cuda13})
check("nothing given, GPU visible, CMake's probe agrees" "native" native "native for GPU 0: NVIDIA H200"
      CMAKE_VERSION 3.24.0 GPU "${h200}" NATIVE_PROBE 90)
check("a Jetson without nvidia-smi, seen by CMake's probe" "native" native
      "native for the GPU CMake's probe found (sm_87)" CMAKE_VERSION 3.25.1 NATIVE_PROBE 87)
check("re-configure: native chosen before is chosen again" "native" native "native for GPU 0: NVIDIA H200"
      CMAKE_VERSION 3.25.1 CACHED native OURS native GPU "${h200}")
check("nothing given, no GPU, nvcc unknown" "${full}" default "default list, no GPU visible"
      CMAKE_VERSION 3.25.1)
check("nothing given, no GPU, nvcc 13.0" "75-real;80-real;86-real;87-real;89-real;90" default
      "default list, no GPU visible; 70 72 dropped, nvcc 13.0.88 cannot build them"
      CMAKE_VERSION 3.25.1 SUPPORTED ${cuda13} COMPILER_VERSION 13.0.88)
check("JetPack 5's nvcc 11.4: no 89 or 90, so 87 carries the PTX"
      "70-real;72-real;75-real;80-real;86-real;87" default
      "default list, no GPU visible; 89 90 dropped, nvcc 11.4 cannot build them"
      CMAKE_VERSION 3.25.1 SUPPORTED 70 72 75 80 86 87 COMPILER_VERSION 11.4)
check("a toolkit that builds none of the list: its oldest arch with PTX" "100" default
      "default list, no GPU visible; 70 72 75 80 86 87 89 90 dropped, nvcc 14.0 cannot build them"
      CMAKE_VERSION 3.25.1 SUPPORTED 120 100 110 COMPILER_VERSION 14.0)
check("GPU visible but CMake 3.22 has no native" "${full}" default
      "default list, CMake 3.22.1 has no native (3.24 has) for GPU 0: NVIDIA H200" CMAKE_VERSION 3.22.1 GPU "${h200}")
check("nvidia-smi lists a GPU CMake's probe cannot run on" "${full}" default
      "default list, CMake's probe could not run on GPU 0: NVIDIA H200" CMAKE_VERSION 3.25.1 GPU "${h200}"
      NATIVE_PROBE NONE)
check("re-configure without a GPU: the default list chosen before is kept" "${full}" default
      "default list, no GPU visible" CMAKE_VERSION 3.25.1 CACHED ${full} OURS ${full})
check("CUDA 13 on a Xavier (sm_72): native cannot build, the list builds but not for it"
      "75-real;80-real;86-real;87-real;89-real;90" default
      "default list, nvcc 13.0.88 cannot build sm_72 of the GPU CMake's probe found (sm_72), so its kernels will not run there; 70 72 dropped, nvcc 13.0.88 cannot build them"
      CMAKE_VERSION 3.25.1 NATIVE_PROBE 72 SUPPORTED ${cuda13} COMPILER_VERSION 13.0.88)
check("native when nvcc builds every arch of the GPUs" "native" native "native for GPU 0: NVIDIA H200"
      CMAKE_VERSION 3.25.1 GPU "${h200}" NATIVE_PROBE 90 75 SUPPORTED ${cuda13})
check("re-configure: the user edited the list this build chose" "80;90" given "given as CMAKE_CUDA_ARCHITECTURES"
      CMAKE_VERSION 3.25.1 CACHED 80 90 OURS ${full})

if(failures GREATER 0)
  message(FATAL_ERROR "test_cuda_archs: ${failures} check(s) failed")
endif()
message(STATUS "test_cuda_archs: all checks passed")
