# Checks that every test registered in a build carries at least one label of the project's set, so
# that `ctest -L`/`-LE` selections (CI's `-LE regression`, the GPU check's `-L device`) cannot miss
# a new test by accident (cmake -P; CMake >= 3.19 for string(JSON)).
#   cmake -DCTEST=<ctest> -DBUILD_DIR=<build> -P EdgeroofCheckLabels.cmake
# It reads `ctest --show-only=json-v1`, which lists the tests without running them, and fails with
# one line naming every test that has none of the labels.
#
# The labels: unit (an ordinary test without hardware), device (needs a GPU or a board), regression
# (a performance gate against a recorded baseline), fuzz (a fuzz target or the replay of its
# corpus), slow (over about 30 s on 2 cores; beside unit).
cmake_minimum_required(VERSION 3.19)
set(edgeroof_test_labels unit device regression fuzz slow)

foreach(var CTEST BUILD_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "edgeroof-labels: ${var} not given to the check")
  endif()
endforeach()

execute_process(COMMAND "${CTEST}" --show-only=json-v1 --test-dir "${BUILD_DIR}"
                OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "edgeroof-labels: ${BUILD_DIR}: ctest --show-only=json-v1 exited ${rc}: ${errors}")
endif()
string(JSON count ERROR_VARIABLE json_error LENGTH "${listing}" tests)
if(json_error)
  message(FATAL_ERROR "edgeroof-labels: ${BUILD_DIR}: ctest's test list has no 'tests' array: ${json_error}")
endif()

# True when one of a test's properties is LABELS with a label of the set.
function(edgeroof_has_known_label test_json out)
  set(${out} FALSE PARENT_SCOPE)
  string(JSON n_properties ERROR_VARIABLE missing LENGTH "${test_json}" properties)
  if(missing OR n_properties EQUAL 0)
    return()
  endif()
  math(EXPR last "${n_properties} - 1")
  foreach(p RANGE ${last})
    string(JSON property_name GET "${test_json}" properties ${p} name)
    if(NOT property_name STREQUAL "LABELS")
      continue()
    endif()
    string(JSON n_labels LENGTH "${test_json}" properties ${p} value)
    if(n_labels EQUAL 0)
      return()
    endif()
    math(EXPR last_label "${n_labels} - 1")
    foreach(l RANGE ${last_label})
      string(JSON label GET "${test_json}" properties ${p} value ${l})
      if(label IN_LIST edgeroof_test_labels)
        set(${out} TRUE PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
endfunction()

set(unlabeled "")
if(count GREATER 0)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON test_json GET "${listing}" tests ${i})
    string(JSON test_name GET "${test_json}" name)
    edgeroof_has_known_label("${test_json}" known)
    if(NOT known)
      list(APPEND unlabeled "${test_name}")
    endif()
  endforeach()
endif()

list(JOIN edgeroof_test_labels ", " shown_labels)
if(unlabeled)
  list(LENGTH unlabeled n_unlabeled)
  list(JOIN unlabeled ", " shown)
  # One line as it is (FATAL_ERROR would wrap it), then the failure.
  message("edgeroof-labels: ${n_unlabeled} of ${count} tests have no label of ${shown_labels}: ${shown}")
  message(FATAL_ERROR "edgeroof-labels: unlabeled tests (named above)")
endif()
message("edgeroof-labels: all ${count} tests have a label of ${shown_labels}")
