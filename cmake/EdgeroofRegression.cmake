# Performance regression tests: run a filtered set of benchmarks with repetitions and compare them
# with a recorded baseline through `edgeroof compare` (exit 1 on a significant regression).
#
# Baselines live in tests/baselines/<device>/<name>.json, one folder per machine kind. The device
# key is EDGEROOF_BASELINE_DEVICE (default: this host's name, lower case, characters other than
# [a-z0-9._-] replaced by '-'); CI runners set it to a stable name such as jetson-agx-orin-64gb.
# A test whose baseline is missing is reported as skipped, with the command that records one.
# Tests carry the label `regression`: `ctest -L regression` runs them, `ctest -LE regression`
# (what CI's quick test does) leaves them out.

cmake_host_system_information(RESULT _edgeroof_host QUERY HOSTNAME)
string(TOLOWER "${_edgeroof_host}" _edgeroof_host)
string(REGEX REPLACE "[^a-z0-9._-]" "-" _edgeroof_host "${_edgeroof_host}")
set(EDGEROOF_BASELINE_DEVICE "${_edgeroof_host}" CACHE STRING
    "Key of the baseline folder tests/baselines/<key>/ that regression tests compare against")
set(EDGEROOF_BASELINE_DIR "${PROJECT_SOURCE_DIR}/tests/baselines" CACHE PATH "Folder of the regression baselines")
if(NOT EDGEROOF_BASELINE_DEVICE MATCHES "^[A-Za-z0-9._-]+$")
  message(FATAL_ERROR "EDGEROOF_BASELINE_DEVICE='${EDGEROOF_BASELINE_DEVICE}': use letters, digits, '.', '_' and '-' only")
endif()
set(_edgeroof_regression_driver "${CMAKE_CURRENT_LIST_DIR}/EdgeroofRegressionDriver.cmake")

# edgeroof_add_regression_test(NAME <name> FILTER <regex> [THRESHOLD <percent>] [ALPHA <p>]
#                              [REPETITIONS <n>] [MIN_TIME <s>] [TIMEOUT <s>]
#                              [BASELINE <file>] [LABELS <labels...>])
# Registers the CTest test regression.<name>. It runs
#   edgeroof-bench --benchmark_filter=<regex> --benchmark_repetitions=<n> --benchmark_min_time=<s>
# into <build>/regression/<name>.json, then
#   edgeroof compare <baseline dir>/<device>/<name>.json <that file> --threshold <t> --alpha <p>.
# FILTER is Google Benchmark's filter, which still sees the /real_time and /manual_time suffixes:
# anchor with '/' rather than '$'. It must not contain ';' (CMake's list separator).
# BASELINE replaces the device's file and LABELS the label `regression`: the driver's own tests
# use them to run in CI against fixed files.
function(edgeroof_add_regression_test)
  cmake_parse_arguments(ARG "" "NAME;FILTER;THRESHOLD;ALPHA;REPETITIONS;MIN_TIME;TIMEOUT;BASELINE" "LABELS" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_FILTER)
    message(FATAL_ERROR "edgeroof_add_regression_test: NAME and FILTER are required")
  endif()
  if(NOT ARG_NAME MATCHES "^[A-Za-z0-9._-]+$")
    message(FATAL_ERROR "edgeroof_add_regression_test: NAME '${ARG_NAME}' must be a plain file name")
  endif()
  set(defaults THRESHOLD 5% ALPHA 0.05 REPETITIONS 9 MIN_TIME 0.1 TIMEOUT 900)
  while(defaults)
    list(POP_FRONT defaults key value)
    if(NOT DEFINED ARG_${key})
      set(ARG_${key} "${value}")
    endif()
  endwhile()
  if(NOT DEFINED ARG_LABELS)
    set(ARG_LABELS regression)
  endif()
  # Only a device baseline may be (re)recorded; a given BASELINE is a fixed file.
  set(recordable ON)
  if(NOT DEFINED ARG_BASELINE)
    set(ARG_BASELINE "${EDGEROOF_BASELINE_DIR}/${EDGEROOF_BASELINE_DEVICE}/${ARG_NAME}.json")
  else()
    set(recordable OFF)
  endif()
  add_test(NAME regression.${ARG_NAME}
           COMMAND ${CMAKE_COMMAND}
                   -DNAME=${ARG_NAME}
                   -DDEVICE=${EDGEROOF_BASELINE_DEVICE}
                   -DBASELINE=${ARG_BASELINE}
                   -DRECORDABLE=${recordable}
                   -DOUTPUT=${PROJECT_BINARY_DIR}/regression/${ARG_NAME}.json
                   -DBENCH=$<TARGET_FILE:edgeroof-bench>
                   -DEDGEROOF=$<TARGET_FILE:edgeroof>
                   -DFILTER=${ARG_FILTER}
                   -DREPETITIONS=${ARG_REPETITIONS}
                   -DMIN_TIME=${ARG_MIN_TIME}
                   -DTHRESHOLD=${ARG_THRESHOLD}
                   -DALPHA=${ARG_ALPHA}
                   -P ${_edgeroof_regression_driver})
  # The driver prints this marker, and nothing else does, when the baseline is missing.
  set_tests_properties(regression.${ARG_NAME} PROPERTIES
                       LABELS "${ARG_LABELS}"
                       SKIP_REGULAR_EXPRESSION "edgeroof-regression: SKIPPED"
                       TIMEOUT ${ARG_TIMEOUT}
                       RUN_SERIAL TRUE)
endfunction()
