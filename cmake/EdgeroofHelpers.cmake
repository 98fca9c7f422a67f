# Helper functions shared by every folder.

# edgeroof_target_defaults(<target>): the warnings of one target. -Werror=undef: a switch of
# edgeroof/config.hpp tested in a file that does not include it stops the compile instead of
# reading as 0.
function(edgeroof_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic -Werror=undef>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall>)
endfunction()

# edgeroof_cpu_arch(<target>): build a target's CPU kernels for EDGEROOF_CPU_ARCH. aarch64 GCC
# takes -mcpu, x86 takes -march.
function(edgeroof_cpu_arch target)
  if(EDGEROOF_CPU_ARCH STREQUAL "")
    return()
  endif()
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-mcpu=${EDGEROOF_CPU_ARCH}>)
  else()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=${EDGEROOF_CPU_ARCH}>)
  endif()
endfunction()

# edgeroof_add_library(<name> [INCLUDE <dir>] SOURCES <files...>): the library of one room,
# edgeroof_<name> with the alias edgeroof::<name> (its name when exported, EdgeroofInstall.cmake),
# C++17, the project's warnings, edgeroof/config.hpp (edgeroof::config), and <dir> (default
# include/) as its public include directory.
function(edgeroof_add_library name)
  cmake_parse_arguments(ARG "" "INCLUDE" "SOURCES" ${ARGN})
  if(NOT ARG_INCLUDE)
    set(ARG_INCLUDE include)
  endif()
  add_library(edgeroof_${name} ${ARG_SOURCES})
  add_library(edgeroof::${name} ALIAS edgeroof_${name})
  set_target_properties(edgeroof_${name} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(edgeroof_${name} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/${ARG_INCLUDE}>
                                                     $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(edgeroof_${name} PUBLIC cxx_std_17)
  target_link_libraries(edgeroof_${name} PUBLIC edgeroof::config)
  edgeroof_target_defaults(edgeroof_${name})
endfunction()

# edgeroof_add_test(<name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>]
#                   [DEVICE] [SLOW] [TIMEOUT <s>])
# One GoogleTest executable per component, registered with CTest as one test. DEVICE tests need
# real hardware and are only registered with EDGEROOF_ENABLE_DEVICE_TESTS=ON; they get
# EDGEROOF_DEVICE_TEST=1, so that EDGEROOF_DEVICE_MISSING (tests/support/device.hpp) fails them
# where the hardware is not found instead of skipping.
# Labels (cmake/EdgeroofCheckLabels.cmake checks every test has one): `unit`, or `device` for a
# DEVICE test; SLOW adds `slow` (over about 30 s on 2 cores); LABELS adds more.
function(edgeroof_add_test name)
  cmake_parse_arguments(ARG "DEVICE;SLOW" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(ARG_DEVICE AND NOT EDGEROOF_ENABLE_DEVICE_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} edgeroof_test_support GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    EDGEROOF_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    EDGEROOF_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(ARG_DEVICE)
    target_compile_definitions(${name} PRIVATE EDGEROOF_DEVICE_TEST=1)
  endif()
  edgeroof_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(ARG_DEVICE)
    set(labels device ${ARG_LABELS})
  else()
    set(labels unit ${ARG_LABELS})
  endif()
  if(ARG_SLOW)
    list(APPEND labels slow)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# edgeroof_sanitized_objects(<name> TARGETS <libraries...> FLAGS <compile flags...>
#                            [LINK_FLAGS <link flags...>] [COMPILER <C++ compiler>])
# The listed libraries compiled once more, whole, with sanitizer FLAGS: the builds that fuzz and
# race-check them take every source of the library, so a file added to a library reaches them
# without a list to keep. Each library becomes an OBJECT library <name>_<library without the
# edgeroof_ prefix> with the original's sources, include folders, definitions, options and link
# interface, in which the other listed libraries stand for themselves: one instrumented copy of
# each, never the original beside it. A library it links that is not listed is linked as it is.
# <name> itself is an INTERFACE target carrying every object, the link interface, FLAGS for the
# consumer's own C++ sources and LINK_FLAGS for its link; link it with edgeroof_link_sanitized().
# COMPILER replaces the project's C++ compiler in these compiles and in the consumers' compiles
# and links (clang for libFuzzer in a project built with GCC). It goes through a launcher so that
# CMake still writes every command line; CUDA sources keep nvcc and are not instrumented.
function(edgeroof_sanitized_objects name)
  cmake_parse_arguments(ARG "" "COMPILER" "TARGETS;FLAGS;LINK_FLAGS" ${ARGN})
  set(libraries)
  foreach(lib IN LISTS ARG_TARGETS)
    _edgeroof_real_target(real ${lib})
    list(APPEND libraries ${real})
  endforeach()
  add_library(${name} INTERFACE)
  foreach(lib IN LISTS libraries)
    _edgeroof_object_copy(copy ${name} ${lib} "${libraries}")
    target_compile_options(${copy} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${ARG_FLAGS}>")
    if(ARG_COMPILER)
      _edgeroof_swap_compiler(${copy} ${ARG_COMPILER})
    endif()
    # Only the targets that link an OBJECT library directly get its objects: the consumer gets
    # them as sources of its own, and the copy's link interface through the link.
    target_sources(${name} INTERFACE $<TARGET_OBJECTS:${copy}>)
    target_link_libraries(${name} INTERFACE ${copy})
  endforeach()
  target_compile_options(${name} INTERFACE "$<$<COMPILE_LANGUAGE:CXX>:${ARG_FLAGS}>")
  target_link_options(${name} INTERFACE ${ARG_LINK_FLAGS})
  set_property(GLOBAL PROPERTY EDGEROOF_SANITIZED_COMPILER_${name} "${ARG_COMPILER}")
endfunction()

# edgeroof_link_sanitized(<target> <name>): <target> links the objects of
# edgeroof_sanitized_objects(<name>) and is compiled and linked by its COMPILER.
function(edgeroof_link_sanitized target name)
  target_link_libraries(${target} PRIVATE ${name})
  get_property(compiler GLOBAL PROPERTY EDGEROOF_SANITIZED_COMPILER_${name})
  if(compiler)
    _edgeroof_swap_compiler(${target} ${compiler})
  endif()
endfunction()

# <out>: the target <name> stands for (an alias such as edgeroof::power names edgeroof_power).
function(_edgeroof_real_target out name)
  if(NOT TARGET ${name})
    message(FATAL_ERROR "edgeroof_sanitized_objects: no target ${name}")
  endif()
  get_target_property(aliased ${name} ALIASED_TARGET)
  if(aliased)
    set(name ${aliased})
  endif()
  set(${out} ${name} PARENT_SCOPE)
endfunction()

# The OBJECT copy of library <lib> for edgeroof_sanitized_objects(<name>); <set> are the libraries
# copied together, which the copy links as copies.
function(_edgeroof_object_copy out name lib set)
  string(REGEX REPLACE "^edgeroof_" "" short ${lib})
  set(copy ${name}_${short})
  get_target_property(dir ${lib} SOURCE_DIR)
  get_target_property(sources ${lib} SOURCES)
  set(abs_sources)
  foreach(src IN LISTS sources)
    if(NOT src MATCHES "^\\$<")
      get_filename_component(src ${src} ABSOLUTE BASE_DIR ${dir})
    endif()
    list(APPEND abs_sources ${src})
  endforeach()
  add_library(${copy} OBJECT ${abs_sources})
  foreach(prop INCLUDE_DIRECTORIES COMPILE_DEFINITIONS COMPILE_OPTIONS COMPILE_FEATURES
               INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS INTERFACE_COMPILE_OPTIONS
               INTERFACE_COMPILE_FEATURES INTERFACE_LINK_OPTIONS POSITION_INDEPENDENT_CODE
               CUDA_SEPARABLE_COMPILATION)
    get_target_property(value ${lib} ${prop})
    if(NOT value STREQUAL "value-NOTFOUND")
      set_property(TARGET ${copy} PROPERTY ${prop} "${value}")
    endif()
  endforeach()
  foreach(prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(value ${lib} ${prop})
    if(value STREQUAL "value-NOTFOUND")
      continue()
    endif()
    set(linked)
    foreach(item IN LISTS value)
      list(APPEND linked ${item})
      # A plain name or $<LINK_ONLY:name>: a copied library is replaced by its copy.
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" bare "${item}")
      if(TARGET ${bare})
        _edgeroof_real_target(real ${bare})
        if(real IN_LIST set)
          string(REGEX REPLACE "^edgeroof_" "" other ${real})
          list(POP_BACK linked)
          string(REPLACE "${bare}" "${name}_${other}" item "${item}")
          list(APPEND linked ${item})
        endif()
      endif()
    endforeach()
    set_property(TARGET ${copy} PROPERTY ${prop} "${linked}")
  endforeach()
  set(${out} ${copy} PARENT_SCOPE)
endfunction()

# Compiles and links <target>'s C++ with <compiler> instead of the project's: a launcher that
# drops the project compiler from the command line CMake wrote and runs <compiler> on the rest.
function(_edgeroof_swap_compiler target compiler)
  set(script ${PROJECT_BINARY_DIR}/edgeroof-swap-compiler.sh)
  file(WRITE ${script} "#!/bin/sh\n# Written by edgeroof_sanitized_objects (cmake/EdgeroofHelpers.cmake): runs \$1 with the\n# arguments CMake wrote for the project's compiler, which comes second and is dropped.\ncompiler=\$1\nshift 2\nexec \"\$compiler\" \"\$@\"\n")
  set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER /bin/sh ${script} ${compiler})
  if(CMAKE_VERSION VERSION_LESS 3.21)
    set_property(TARGET ${target} PROPERTY RULE_LAUNCH_LINK "/bin/sh ${script} ${compiler}")
  else()
    set_property(TARGET ${target} PROPERTY CXX_LINKER_LAUNCHER /bin/sh ${script} ${compiler})
  endif()
endfunction()
