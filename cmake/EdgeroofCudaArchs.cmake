# Which CUDA architectures edgeroof's device code is built for. The user's choice always wins: a
# CMAKE_CUDA_ARCHITECTURES given on the command line or in the cache, else CUDAARCHS (the
# environment variable CMake reads on a first configure). Without either, a GPU visible at configure
# time gets `native` (CMake >= 3.24), and otherwise the default list: Jetson Xavier and Orin, the
# datacenter and desktop generations since Volta, and PTX for the newest so that a later GPU runs
# the kernels through the driver's JIT. Archs the installed nvcc cannot compile are dropped from the
# default list with a status line instead of failing the build.
#
# The selection is a function of its inputs (edgeroof_select_cuda_archs), so that tests run it in
# `cmake -P` mode without nvcc or a GPU (tests/cmake/test_cuda_archs.cmake).

# Xavier 72 and Orin 87; V100 70, T4/RTX 20 75, A100 80, RTX 30/A10 86, RTX 40/L4 89, H100/H200 90.
set(EDGEROOF_CUDA_DEFAULT_ARCHS 70 72 75 80 86 87 89 90)

# The first toolkit that compiles each default arch, for an nvcc too old for --list-gpu-arch.
set(_edgeroof_cuda_arch_min_70 9.0)
set(_edgeroof_cuda_arch_min_72 10.0)
set(_edgeroof_cuda_arch_min_75 10.0)
set(_edgeroof_cuda_arch_min_80 11.0)
set(_edgeroof_cuda_arch_min_86 11.1)
set(_edgeroof_cuda_arch_min_87 11.4)
set(_edgeroof_cuda_arch_min_89 11.8)
set(_edgeroof_cuda_arch_min_90 11.8)

# edgeroof_cuda_visible_gpu(<out>): "GPU 0: <name>" from `nvidia-smi -L` (found on PATH), or "" when
# it is missing, fails (no driver) or lists no GPU. Jetsons before JetPack 6 have no nvidia-smi;
# CMake's own probe (CMAKE_CUDA_ARCHITECTURES_NATIVE) sees their GPU, see edgeroof_choose_cuda_archs.
function(edgeroof_cuda_visible_gpu out)
  execute_process(COMMAND nvidia-smi -L RESULT_VARIABLE rc OUTPUT_VARIABLE listing ERROR_QUIET TIMEOUT 20)
  set(gpu "")
  # A driver that cannot be reached exits non-zero; "No devices were found" has no GPU line.
  if(rc EQUAL 0 AND listing MATCHES "(^|\n)(GPU [0-9]+: [^\n(]*[^\n( ])")
    set(gpu "${CMAKE_MATCH_2}")
  endif()
  set(${out} "${gpu}" PARENT_SCOPE)
endfunction()

# edgeroof_cuda_supported_archs(<out> COMPILER <nvcc> VERSION <x.y>): the archs (numbers) the
# compiler can build for, from `nvcc --list-gpu-arch`; where nvcc lacks that option, the default
# archs its version reaches by the table above; "" when neither answers (nothing is then dropped).
function(edgeroof_cuda_supported_archs out)
  cmake_parse_arguments(ARG "" "COMPILER;VERSION" "" ${ARGN})
  set(archs "")
  if(ARG_COMPILER)
    execute_process(COMMAND "${ARG_COMPILER}" --list-gpu-arch RESULT_VARIABLE rc OUTPUT_VARIABLE listing
                    ERROR_QUIET TIMEOUT 60)
    if(rc EQUAL 0)
      string(REGEX MATCHALL "compute_[0-9]+" found "${listing}")
      list(TRANSFORM found REPLACE "compute_" "")
      set(archs ${found})
    endif()
  endif()
  if(NOT archs AND ARG_VERSION)
    foreach(arch IN LISTS EDGEROOF_CUDA_DEFAULT_ARCHS)
      if(ARG_VERSION VERSION_GREATER_EQUAL _edgeroof_cuda_arch_min_${arch})
        list(APPEND archs ${arch})
      endif()
    endforeach()
  endif()
  set(${out} "${archs}" PARENT_SCOPE)
endfunction()

# edgeroof_cuda_default_list(<out> <out_dropped> SUPPORTED <archs>): the default archs the compiler
# supports (all of them when SUPPORTED is empty, i.e. unknown), each as real code only but the newest,
# which is CMake's plain number: real code and PTX. If none is supported, the compiler's oldest arch
# with its PTX.
function(edgeroof_cuda_default_list out out_dropped)
  cmake_parse_arguments(ARG "" "" "SUPPORTED" ${ARGN})
  set(kept "")
  set(dropped "")
  foreach(arch IN LISTS EDGEROOF_CUDA_DEFAULT_ARCHS)
    if(NOT ARG_SUPPORTED OR arch IN_LIST ARG_SUPPORTED)
      list(APPEND kept ${arch})
    else()
      list(APPEND dropped ${arch})
    endif()
  endforeach()
  if(NOT kept)
    list(SORT ARG_SUPPORTED COMPARE NATURAL)
    list(GET ARG_SUPPORTED 0 kept)
  endif()
  list(POP_BACK kept newest)
  list(TRANSFORM kept APPEND "-real")
  list(APPEND kept ${newest})
  set(${out} "${kept}" PARENT_SCOPE)
  set(${out_dropped} "${dropped}" PARENT_SCOPE)
endfunction()

# edgeroof_select_cuda_archs(<out_archs> <out_reason> <out_why>
#     CMAKE_VERSION <x.y.z> [CACHED <archs>] [OURS <archs>] [CUDAARCHS <archs>] [GPU <description>]
#     [NATIVE_PROBE <archs>|NONE|NOT_RUN] [SUPPORTED <archs>] [COMPILER_VERSION <x.y>])
#   CACHED: CMAKE_CUDA_ARCHITECTURES as it was before enable_language(CUDA) (""/absent: unset);
#   OURS: the value an earlier configure of this build chose itself, which is not the user's;
#   CUDAARCHS: the environment variable; GPU: what edgeroof_cuda_visible_gpu() found;
#   NATIVE_PROBE: CMAKE_CUDA_ARCHITECTURES_NATIVE after enable_language (CMake >= 3.24 sets it), NONE
#   when that probe found no GPU it could run on, NOT_RUN where there was no probe.
# <out_reason> is one of given, CUDAARCHS, native, default; <out_why> the words for the summary.
function(edgeroof_select_cuda_archs out_archs out_reason out_why)
  cmake_parse_arguments(ARG "" "CMAKE_VERSION;GPU;COMPILER_VERSION" "CACHED;OURS;CUDAARCHS;NATIVE_PROBE;SUPPORTED"
                        ${ARGN})
  if(NOT ARG_CMAKE_VERSION)
    message(FATAL_ERROR "edgeroof_select_cuda_archs: CMAKE_VERSION is required")
  endif()
  if(NOT DEFINED ARG_NATIVE_PROBE)
    set(ARG_NATIVE_PROBE NOT_RUN)
  endif()
  if(NOT ARG_GPU AND NOT ARG_NATIVE_PROBE MATCHES "^(NOT_RUN|NONE)$")
    # A Jetson without nvidia-smi: CMake's probe ran on its GPU.
    string(REPLACE ";" " sm_" found "${ARG_NATIVE_PROBE}")
    set(ARG_GPU "the GPU CMake's probe found (sm_${found})")
  endif()
  # The GPU's archs this nvcc cannot build (CUDA 13 and a V100 or Xavier): native would fail to compile.
  set(unbuildable "")
  if(ARG_SUPPORTED AND NOT ARG_NATIVE_PROBE MATCHES "^(NOT_RUN|NONE)$")
    foreach(arch IN LISTS ARG_NATIVE_PROBE)
      if(NOT arch IN_LIST ARG_SUPPORTED)
        list(APPEND unbuildable ${arch})
      endif()
    endforeach()
  endif()
  set(archs "")
  set(why "")
  # CMake initialises the cache from CUDAARCHS on a first configure, so a cached value equal to it
  # came from the environment.
  if(ARG_CACHED AND NOT ARG_CACHED STREQUAL "${ARG_OURS}")
    set(archs "${ARG_CACHED}")
    if(ARG_CACHED STREQUAL "${ARG_CUDAARCHS}")
      set(reason CUDAARCHS)
      set(why "from the CUDAARCHS environment variable")
    else()
      set(reason given)
      set(why "given as CMAKE_CUDA_ARCHITECTURES")
    endif()
  elseif(ARG_CUDAARCHS)
    set(archs "${ARG_CUDAARCHS}")
    set(reason CUDAARCHS)
    set(why "from the CUDAARCHS environment variable")
  elseif(ARG_GPU AND NOT unbuildable AND ARG_CMAKE_VERSION VERSION_GREATER_EQUAL 3.24
         AND NOT ARG_NATIVE_PROBE STREQUAL "NONE")
    set(archs native)
    set(reason native)
    set(why "native for ${ARG_GPU}")
  else()
    edgeroof_cuda_default_list(archs dropped SUPPORTED ${ARG_SUPPORTED})
    set(reason default)
    if(NOT ARG_GPU)
      set(why "default list, no GPU visible")
    elseif(unbuildable)
      # native would fail to compile; the list at least builds, though not for this GPU.
      string(REPLACE ";" " sm_" unbuildable "${unbuildable}")
      string(CONCAT why "default list, nvcc ${ARG_COMPILER_VERSION} cannot build sm_${unbuildable} of ${ARG_GPU}, "
                    "so its kernels will not run there")
    elseif(ARG_CMAKE_VERSION VERSION_LESS 3.24)
      set(why "default list, CMake ${ARG_CMAKE_VERSION} has no native (3.24 has) for ${ARG_GPU}")
    else()
      # nvidia-smi sees a GPU the toolkit's runtime cannot use, e.g. a driver older than the toolkit.
      set(why "default list, CMake's probe could not run on ${ARG_GPU}")
    endif()
    if(dropped)
      string(REPLACE ";" " " dropped "${dropped}")
      string(APPEND why "; ${dropped} dropped, nvcc ${ARG_COMPILER_VERSION} cannot build them")
    endif()
  endif()
  set(${out_archs} "${archs}" PARENT_SCOPE)
  set(${out_reason} "${reason}" PARENT_SCOPE)
  set(${out_why} "${why}" PARENT_SCOPE)
endfunction()

# edgeroof_choose_cuda_archs(<cached>): called right after enable_language(CUDA) with the value
# CMAKE_CUDA_ARCHITECTURES had before it (enable_language fills an unset one with the compiler's
# default, which cannot be told from a user's value afterwards). Writes the choice into the cache
# where it is not the user's, and sets EDGEROOF_CUDA_ARCHS_SUMMARY for the configure summary.
function(edgeroof_choose_cuda_archs cached)
  set(gpu "")
  if("$ENV{CUDAARCHS}" STREQUAL "" AND (NOT cached OR cached STREQUAL "${EDGEROOF_CUDA_ARCHS_CHOSEN}"))
    edgeroof_cuda_visible_gpu(gpu)
  endif()
  set(probe NOT_RUN)
  if(DEFINED CMAKE_CUDA_ARCHITECTURES_NATIVE)
    set(probe "${CMAKE_CUDA_ARCHITECTURES_NATIVE}")
    list(TRANSFORM probe REPLACE "-real$" "")
    if(NOT probe)
      set(probe NONE)
    endif()
  endif()
  edgeroof_cuda_supported_archs(supported COMPILER "${CMAKE_CUDA_COMPILER}" VERSION "${CMAKE_CUDA_COMPILER_VERSION}")
  edgeroof_select_cuda_archs(archs reason why CMAKE_VERSION ${CMAKE_VERSION} CACHED ${cached}
                             OURS ${EDGEROOF_CUDA_ARCHS_CHOSEN} CUDAARCHS $ENV{CUDAARCHS} GPU "${gpu}"
                             NATIVE_PROBE ${probe} SUPPORTED ${supported}
                             COMPILER_VERSION "${CMAKE_CUDA_COMPILER_VERSION}")
  if(reason STREQUAL "native" OR reason STREQUAL "default")
    set(level STATUS)
    if(why MATCHES "will not run there")
      set(level WARNING)
    endif()
    message(${level} "edgeroof: CUDA archs ${archs}: ${why} (set CUDAARCHS or -DCMAKE_CUDA_ARCHITECTURES to choose)")
    set(CMAKE_CUDA_ARCHITECTURES "${archs}" CACHE STRING "CUDA architectures to build for" FORCE)
    set(EDGEROOF_CUDA_ARCHS_CHOSEN "${archs}" CACHE INTERNAL "CUDA architectures edgeroof chose itself")
  else()
    # The user's value is theirs to keep; CUDAARCHS replaces only a value this project chose.
    if(reason STREQUAL "CUDAARCHS")
      set(CMAKE_CUDA_ARCHITECTURES "${archs}" CACHE STRING "CUDA architectures to build for" FORCE)
    endif()
    set(EDGEROOF_CUDA_ARCHS_CHOSEN "" CACHE INTERNAL "CUDA architectures edgeroof chose itself")
  endif()
  set(shown "${archs}")
  if(archs STREQUAL "native" AND probe AND NOT probe STREQUAL "NOT_RUN")
    set(shown "native=${probe}")
  endif()
  set(EDGEROOF_CUDA_ARCHS_SUMMARY "${shown} (${why})" PARENT_SCOPE)
endfunction()
