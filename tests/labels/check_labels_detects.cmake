# The label check's own test (cmake -P): a fixture project configured in a scratch folder has two
# tests without a label of the set, and the check must fail naming exactly those two; the check
# of this project's own build (check_test_labels) must pass.
cmake_minimum_required(VERSION 3.19)
foreach(var CHECK FIXTURE WORK GENERATOR MAKE_PROGRAM CTEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_labels_detects: ${var} not given")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${FIXTURE}" -B "${WORK}" -G "${GENERATOR}"
                        "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_labels_detects: configuring the fixture failed (${rc}): ${err}")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" "-DCTEST=${CTEST}" "-DBUILD_DIR=${WORK}" -P "${CHECK}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(expected "edgeroof-labels: 2 of 4 tests have no label of unit, device, regression, fuzz, slow: no_labels, odd/name:outside")
if(rc EQUAL 0)
  message(FATAL_ERROR "check_labels_detects: the check passed a project with unlabeled tests: ${out}${err}")
endif()
string(FIND "${err}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "check_labels_detects: expected\n  ${expected}\ngot\n  ${err}")
endif()
# Labelled tests are not named: the list after the colon ends where the line does.
string(REGEX MATCH "fuzz, slow: [^\n]*" named "${err}")
if(NOT named STREQUAL "fuzz, slow: no_labels, odd/name:outside")
  message(FATAL_ERROR "check_labels_detects: the check named '${named}'")
endif()
file(REMOVE_RECURSE "${WORK}")
message("check_labels_detects: the check names exactly no_labels and odd/name:outside")
