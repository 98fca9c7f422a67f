# Build options of edgeroof. Every optional dependency is an option here, a compile definition on
# the target that uses it, and a stub that says how to enable it when it is off. AUTO means
# optional for real: a dependency that is missing, or found but unusable (a package config that
# fails on a dependency of its own, a library that does not link), turns its feature off with one
# status line saying why and how to fix it; only ON stops the configure. Packages whose configs
# can fail are tried first in a CMake process of their own (EdgeroofProbe.cmake).

include(CheckLanguage)
include(EdgeroofProbe)
include(EdgeroofCudaArchs)

set(EDGEROOF_ENABLE_CUDA AUTO CACHE STRING "Build the CUDA backend: ON, OFF or AUTO (on when a CUDA compiler is found)")
set_property(CACHE EDGEROOF_ENABLE_CUDA PROPERTY STRINGS AUTO ON OFF)
option(EDGEROOF_ENABLE_DEVICE_TESTS "Register tests that need real hardware (GPU, power rails)" OFF)
option(EDGEROOF_BUILD_TESTS "Build the unit tests" ON)
# The sanitizer builds compile the libraries they test whole once more (ASan and UBSan for the fuzz
# targets in tests/fuzz, TSan for the sampler in tests/tsan), over a third of a CPU-only build.
# OFF leaves both folders out; CI's fresh-root job uses it, as the host's test run has them.
option(EDGEROOF_SANITIZER_TESTS "Build and run the fuzz targets (ASan, UBSan) and the sampler under TSan" ON)
set(EDGEROOF_CPU_ARCH native CACHE STRING
    "Instruction set the CPU kernels are built for (-march/-mcpu value; empty for the compiler default)")

set(EDGEROOF_HAVE_CUDA OFF)
if(EDGEROOF_ENABLE_CUDA)  # AUTO and ON are both true-ish strings for if()
  # Jetson images keep nvcc out of PATH; look where JetPack and the CUDA installers put it.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(EDGEROOF_HAVE_CUDA ON)
  elseif(EDGEROOF_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "EDGEROOF_ENABLE_CUDA=ON but no CUDA compiler was found; "
                        "set CMAKE_CUDA_COMPILER or CUDACXX to nvcc, or use -DEDGEROOF_ENABLE_CUDA=OFF")
  else()
    message(STATUS "edgeroof: no CUDA compiler found, building the CPU backend only")
  endif()
endif()

if(EDGEROOF_HAVE_CUDA)
  # enable_language fills an unset CMAKE_CUDA_ARCHITECTURES with CUDAARCHS or the compiler's default,
  # so whether the user chose is only known before it (EdgeroofCudaArchs.cmake).
  set(_edgeroof_cached_archs "${CMAKE_CUDA_ARCHITECTURES}")
  enable_language(CUDA)
  edgeroof_choose_cuda_archs("${_edgeroof_cached_archs}")
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  # A bare nvcc (a compiler-only package, a toolkit missing its libraries) compiles but cannot link
  # the runtime and cuBLAS the backend needs.
  find_package(CUDAToolkit)
  if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart OR NOT TARGET CUDA::cublas)
    set(EDGEROOF_HAVE_CUDA OFF)
    set(_edgeroof_why "the CUDA compiler ${CMAKE_CUDA_COMPILER} was found but not the CUDA runtime and cuBLAS "
                      "libraries next to it")
    if(EDGEROOF_ENABLE_CUDA STREQUAL "ON")
      message(FATAL_ERROR "EDGEROOF_ENABLE_CUDA=ON but ${_edgeroof_why}; install the whole toolkit or set "
                          "CUDAToolkit_ROOT, or use -DEDGEROOF_ENABLE_CUDA=OFF")
    endif()
    message(STATUS "edgeroof: ${_edgeroof_why}, so the CPU backend is built alone. Fix: install the whole "
                   "toolkit or set CUDAToolkit_ROOT, or -DEDGEROOF_ENABLE_CUDA=OFF to silence this")
  endif()
endif()
if(NOT EDGEROOF_HAVE_CUDA)
  set(EDGEROOF_CUDA_ARCHS_SUMMARY none)
endif()

# Layer kernels: cuDNN on the GPU (needs CUDA), oneDNN on the CPU. AUTO turns each on when found.
set(EDGEROOF_ENABLE_CUDNN AUTO CACHE STRING "Build the cuDNN layer kernels: ON, OFF or AUTO (on with CUDA when cuDNN is found)")
set_property(CACHE EDGEROOF_ENABLE_CUDNN PROPERTY STRINGS AUTO ON OFF)
set(EDGEROOF_ENABLE_ONEDNN AUTO CACHE STRING "Build the oneDNN (CPU) layer kernels: ON, OFF or AUTO (on when oneDNN is found)")
set_property(CACHE EDGEROOF_ENABLE_ONEDNN PROPERTY STRINGS AUTO ON OFF)

set(EDGEROOF_HAVE_CUDNN OFF)
if(EDGEROOF_ENABLE_CUDNN)
  if(EDGEROOF_HAVE_CUDA)
    edgeroof_optional_package(cudnn EDGEROOF_ENABLE_CUDNN "cuDNN layer kernels off"
                              FIX "install cuDNN for this CUDA ${CUDAToolkit_VERSION} or set CUDNN_ROOT to it"
                              FOUND_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
                              FORWARD CUDNN_ROOT CUDAToolkit_ROOT CUDAToolkit_BIN_DIR)
    if(cudnn_PROBE_OK)
      find_package(CUDNN)
    endif()
  endif()
  if(EDGEROOF_HAVE_CUDA AND CUDNN_FOUND)
    set(EDGEROOF_HAVE_CUDNN ON)
  elseif(EDGEROOF_ENABLE_CUDNN STREQUAL "ON")
    message(FATAL_ERROR "EDGEROOF_ENABLE_CUDNN=ON needs CUDA and cuDNN (cudnn.h, libcudnn); set CUDNN_ROOT "
                        "to the cuDNN install, or use -DEDGEROOF_ENABLE_CUDNN=OFF")
  endif()
endif()

set(EDGEROOF_HAVE_ONEDNN OFF)
if(EDGEROOF_ENABLE_ONEDNN)
  # Debian's libdnnl-dev config needs OpenCL (ocl-icd-opencl-dev) and fails hard without it.
  edgeroof_optional_package(dnnl EDGEROOF_ENABLE_ONEDNN "oneDNN CPU layer kernels off"
                            FIX "install what it names (Debian: ocl-icd-opencl-dev for OpenCL) or set dnnl_DIR to a working oneDNN"
                            FOUND_VARS dnnl_DIR FORWARD dnnl_DIR dnnl_ROOT DNNL_ROOT OpenCL_INCLUDE_DIR OpenCL_LIBRARY
                            NOT_FOUND_REGEX "package configuration file provided by \"dnnl\"")
  if(dnnl_PROBE_OK)
    find_package(dnnl CONFIG QUIET)
  endif()
  if(dnnl_FOUND)
    set(EDGEROOF_HAVE_ONEDNN ON)
  elseif(EDGEROOF_ENABLE_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "EDGEROOF_ENABLE_ONEDNN=ON but oneDNN was not found; install it (Debian: libdnnl-dev) "
                        "or set dnnl_DIR, or use -DEDGEROOF_ENABLE_ONEDNN=OFF")
  elseif(NOT EDGEROOF_PROBE_dnnl STREQUAL "UNUSABLE")
    message(STATUS "edgeroof: oneDNN not found, CPU layer benchmarks disabled (Debian: libdnnl-dev)")
  endif()
endif()

# ONNX import for `edgeroof model FILE.onnx`: libonnx (its CMake config) and protobuf's headers.
set(EDGEROOF_ENABLE_ONNX AUTO CACHE STRING "Import .onnx models: ON, OFF or AUTO (on when libonnx and protobuf are found)")
set_property(CACHE EDGEROOF_ENABLE_ONNX PROPERTY STRINGS AUTO ON OFF)
set(EDGEROOF_HAVE_ONNX OFF)
if(EDGEROOF_ENABLE_ONNX)
  edgeroof_optional_package(onnx EDGEROOF_ENABLE_ONNX "ONNX import off"
                            FIX "install matching libonnx-dev and libprotobuf-dev, or set ONNX_DIR and Protobuf_ROOT"
                            FOUND_VARS Protobuf_INCLUDE_DIR ONNX_DIR
                            FORWARD ONNX_DIR ONNX_ROOT Protobuf_ROOT Protobuf_INCLUDE_DIR Protobuf_LIBRARY
                                    Protobuf_PROTOC_EXECUTABLE
                            NOT_FOUND_REGEX "Could NOT find Protobuf|package configuration file provided by \"ONNX\"")
  if(onnx_PROBE_OK)
    find_package(Protobuf QUIET)
    if(Protobuf_FOUND AND TARGET protobuf::libprotobuf)
      find_package(ONNX CONFIG QUIET)
    endif()
  endif()
  if(ONNX_FOUND AND TARGET onnx)
    set(EDGEROOF_HAVE_ONNX ON)
  elseif(EDGEROOF_ENABLE_ONNX STREQUAL "ON")
    message(FATAL_ERROR "EDGEROOF_ENABLE_ONNX=ON but libonnx or protobuf was not found; install them "
                        "(Debian: libonnx-dev libprotobuf-dev) or use -DEDGEROOF_ENABLE_ONNX=OFF")
  elseif(NOT EDGEROOF_PROBE_onnx STREQUAL "UNUSABLE")
    message(STATUS "edgeroof: libonnx or protobuf not found (Debian: libonnx-dev libprotobuf-dev), ONNX import disabled")
  endif()
endif()
