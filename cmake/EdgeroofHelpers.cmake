# Helper functions shared by every folder.

# edgeroof_target_defaults(<target>): warnings and the CPU instruction set for one target.
function(edgeroof_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic>
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

# edgeroof_add_test(<name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>]
#                   [DEVICE] [TIMEOUT <s>])
# One GoogleTest executable per component, registered with CTest as one test. DEVICE tests need
# real hardware and are only registered with EDGEROOF_ENABLE_DEVICE_TESTS=ON.
function(edgeroof_add_test name)
  cmake_parse_arguments(ARG "DEVICE" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(ARG_DEVICE AND NOT EDGEROOF_ENABLE_DEVICE_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} edgeroof_test_support GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    EDGEROOF_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    EDGEROOF_BINARY_DIR="${PROJECT_BINARY_DIR}")
  edgeroof_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name})
  set(labels unit ${ARG_LABELS})
  if(ARG_DEVICE)
    list(APPEND labels device)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
