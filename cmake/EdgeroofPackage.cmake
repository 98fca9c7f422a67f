# Debian packages with CPack (`cpack -G DEB` in the build folder, or `cmake --build build --target
# package`), one per install component of EdgeroofInstall.cmake:
#   edgeroof_<version>_<arch>.deb       the programs (component runtime);
#   edgeroof-dev_<version>_<arch>.deb   headers, static libraries and the CMake package (dev).
# <arch> is Debian's name of the target (amd64, arm64). With the CUDA backend the programs load the
# CUDA runtime, cuBLAS and cuDNN of the toolkit they were built with: the package depends on them
# and says so (on a Jetson they are JetPack's). A CPU-only package is a build with
# -DEDGEROOF_ENABLE_CUDA=OFF. The Depends are written by hand (EdgeroofDebDepends.cmake): the
# libraries are listed here, each turned into the package that ships it on this machine.

include(EdgeroofDebDepends)

# The library file an imported target stands for, in the configuration a Release build takes.
function(_edgeroof_imported_file out target)
  set(file "")
  if(TARGET ${target})
    get_target_property(aliased ${target} ALIASED_TARGET)
    if(aliased)
      set(target ${aliased})
    endif()
    get_target_property(configs ${target} IMPORTED_CONFIGURATIONS)
    set(props IMPORTED_LOCATION)
    foreach(c RELEASE RELWITHDEBINFO NOCONFIG ${configs})
      string(TOUPPER "${c}" c)
      list(APPEND props IMPORTED_LOCATION_${c})
    endforeach()
    foreach(p IN LISTS props)
      get_target_property(value ${target} ${p})
      if(value)
        set(file "${value}")
        break()
      endif()
    endforeach()
  endif()
  set(${out} "${file}" PARENT_SCOPE)
endfunction()

# The compiler's own runtime file <name> (libstdc++.so.6, libc.so.6, ...).
function(_edgeroof_compiler_file out name)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=${name} OUTPUT_VARIABLE file
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT IS_ABSOLUTE "${file}")
    set(file "")
  endif()
  set(${out} "${file}" PARENT_SCOPE)
endfunction()

# _edgeroof_depend_on(<list> WHY <text> ENTRIES "<imported target>|<fallback package>"...): each
# target's library file as a Depends entry (edgeroof_deb_package), appended to <list>.
macro(_edgeroof_depend_on list)
  cmake_parse_arguments(_ARG "" "WHY" "ENTRIES" ${ARGN})
  foreach(_entry IN LISTS _ARG_ENTRIES)
    string(REPLACE "|" ";" _entry "${_entry}")
    list(GET _entry 0 _target)
    list(GET _entry 1 _fallback)
    _edgeroof_imported_file(_file ${_target})
    edgeroof_deb_package(_dep FILE "${_file}" FALLBACK ${_fallback} WHY "${_ARG_WHY}")
    list(APPEND ${list} "${_dep}")
  endforeach()
endmacro()

set(EDGEROOF_DEB_NOTES)
set(runtime_depends)
# What every program loads: the C and C++ runtimes, Google Benchmark (edgeroof-bench), OpenMP.
foreach(entry "libc.so.6|libc6" "libstdc++.so.6|libstdc++6" "libgcc_s.so.1|libgcc-s1")
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 name)
  list(GET entry 1 fallback)
  _edgeroof_compiler_file(file ${name})
  edgeroof_deb_package(dep FILE "${file}" FALLBACK ${fallback})
  list(APPEND runtime_depends "${dep}")
endforeach()
_edgeroof_depend_on(runtime_depends WHY "Google Benchmark" ENTRIES "benchmark::benchmark|libbenchmark1debian")
# OpenMP is found in dnn/kernels; its library is in the cache (GCC's libgomp).
if(OpenMP_gomp_LIBRARY)
  edgeroof_deb_package(dep FILE "${OpenMP_gomp_LIBRARY}" FALLBACK libgomp1 WHY "OpenMP")
  list(APPEND runtime_depends "${dep}")
endif()
if(EDGEROOF_HAVE_ONEDNN)
  _edgeroof_depend_on(runtime_depends WHY "oneDNN layer kernels" ENTRIES "DNNL::dnnl|libdnnl2")
endif()
if(EDGEROOF_HAVE_ONNX)
  _edgeroof_depend_on(runtime_depends WHY "ONNX import" ENTRIES "onnx|libonnx1" "protobuf::libprotobuf|libprotobuf32")
endif()
set(backend "CPU backend")
if(EDGEROOF_HAVE_CUDA)
  # NVIDIA's package names (its CUDA repository and JetPack's): cuda-cudart-12-6, libcublas-12-6.
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${CUDAToolkit_VERSION}")
  set(cuda_mm "${CMAKE_MATCH_1}-${CMAKE_MATCH_2}")
  set(cuda_major "${CMAKE_MATCH_1}")
  _edgeroof_depend_on(runtime_depends WHY "CUDA backend" ENTRIES "CUDA::cudart|cuda-cudart-${cuda_mm}"
                      "CUDA::cublas|libcublas-${cuda_mm}")
  set(backend "CPU and CUDA backends (CUDA ${CUDAToolkit_VERSION}, architectures ${EDGEROOF_CUDA_ARCHS_SUMMARY}")
  if(EDGEROOF_HAVE_CUDNN)
    set(cudnn_major 9)
    if(CUDNN_VERSION MATCHES "^([0-9]+)")
      set(cudnn_major ${CMAKE_MATCH_1})
    endif()
    edgeroof_deb_package(dep FILE "${CUDNN_LIBRARY}" FALLBACK libcudnn${cudnn_major}-cuda-${cuda_major}
                         WHY "cuDNN layer kernels")
    list(APPEND runtime_depends "${dep}")
    string(APPEND backend ", cuDNN")
  endif()
  string(APPEND backend ")")
endif()
list(REMOVE_DUPLICATES runtime_depends)
list(JOIN runtime_depends ", " runtime_depends)

edgeroof_deb_architecture(EDGEROOF_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
set(cpu_arch "${EDGEROOF_CPU_ARCH}")
if(cpu_arch STREQUAL "")
  set(cpu_arch "the compiler's default")
endif()

set(CPACK_PACKAGE_NAME edgeroof)
set(CPACK_PACKAGE_VENDOR "edgeroof")
set(EDGEROOF_PACKAGE_CONTACT "edgeroof maintainers <edgeroof@invalid>" CACHE STRING
    "The Maintainer of the Debian packages (Name <address>): whoever builds and ships them")
set(CPACK_PACKAGE_CONTACT "${EDGEROOF_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_INSTALL_DIRECTORY edgeroof)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${EDGEROOF_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME edgeroof)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "${runtime_depends}")
# plot writes its gnuplot scripts and data without gnuplot and says so; with it, the charts.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "gnuplot-nox | gnuplot")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "Time and energy rooflines of DNN workloads across power modes\n"
    "edgeroof measures the time and energy rooflines of a machine in each of its power modes\n"
    "(edgeroof-bench, Google Benchmark), fits them, predicts and tunes DNN models against them, plots\n"
    "with gnuplot and compares runs. Built with the ${backend}; CPU kernels built for ${cpu_arch}.")
if(EDGEROOF_HAVE_CUDA)
  string(APPEND CPACK_COMPONENT_RUNTIME_DESCRIPTION
         "\nNeeds the CUDA runtime, cuBLAS and cuDNN of CUDA ${CUDAToolkit_VERSION}: on a Jetson those of JetPack.")
endif()
string(REPLACE ";" "" CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_COMPONENT_RUNTIME_DESCRIPTION}")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME edgeroof-dev)
set(dev_depends "nlohmann-json3-dev (>= 3.2)")
if(EDGEROOF_HAVE_ONNX)
  string(APPEND dev_depends ", libonnx-dev, libprotobuf-dev")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${dev_depends}")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "edgeroof's libraries for C++ projects\n"
    "The results contract, the DNN FLOP and byte model, the sensors, power modes and sweep, and the\n"
    "analysis (fit, predict, tune, compare) as static libraries with their headers and a CMake package:\n"
    "find_package(edgeroof CONFIG) and edgeroof::results, edgeroof::dnn_model, edgeroof::power,\n"
    "edgeroof::analysis.")
string(REPLACE ";" "" CPACK_COMPONENT_DEV_DESCRIPTION "${CPACK_COMPONENT_DEV_DESCRIPTION}")

include(CPack)

set(EDGEROOF_PACKAGE_SUMMARY "edgeroof_${PROJECT_VERSION}_${EDGEROOF_DEB_ARCH}.deb and edgeroof-dev (cpack -G DEB)")
if(EDGEROOF_CPU_ARCH STREQUAL "native")
  string(APPEND EDGEROOF_PACKAGE_SUMMARY "; CPU kernels for -march/-mcpu=native run on CPUs like this one only, "
                                         "so a package for other machines wants -DEDGEROOF_CPU_ARCH=<their CPU>")
endif()
foreach(note IN LISTS EDGEROOF_DEB_NOTES)
  message(STATUS "edgeroof: package Depends: ${note}")
endforeach()
