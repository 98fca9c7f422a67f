# Driver of one regression test (cmake -P), registered by edgeroof_add_regression_test().
# Every command runs through execute_process with its arguments as a list: no shell, so a filter
# or path is never re-parsed.
#
# With the environment variable EDGEROOF_RECORD_BASELINE=1 it records the baseline instead (same
# flags as the check, written atomically by edgeroof-bench) and passes -- unless the test names a
# fixed BASELINE file (RECORDABLE=OFF), which is never overwritten.
#
# compare prints the figures it compares as <CTestMeasurement> lines (current, baseline, ratio per
# benchmark and unit): CTest keeps them with the test, CDash charts them from run to run.

foreach(var NAME DEVICE BASELINE OUTPUT BENCH EDGEROOF FILTER REPETITIONS MIN_TIME THRESHOLD ALPHA)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "edgeroof-regression: ${var} not given to the driver")
  endif()
endforeach()

set(bench_args
    "--benchmark_filter=${FILTER}"
    "--benchmark_repetitions=${REPETITIONS}"
    "--benchmark_min_time=${MIN_TIME}"
    "--benchmark_display_aggregates_only=true"
    "--benchmark_out_format=json")

if("$ENV{EDGEROOF_RECORD_BASELINE}" STREQUAL "1" AND RECORDABLE)
  get_filename_component(baseline_dir "${BASELINE}" DIRECTORY)
  file(MAKE_DIRECTORY "${baseline_dir}")
  execute_process(COMMAND "${BENCH}" ${bench_args} "--benchmark_out=${BASELINE}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "edgeroof-regression: ${NAME}: edgeroof-bench failed (${rc}); no baseline written")
  endif()
  message("edgeroof-regression: ${NAME}: baseline recorded in ${BASELINE}")
  return()
endif()

if(NOT EXISTS "${BASELINE}")
  string(REPLACE ";" " " shown_args "${bench_args}")
  message("edgeroof-regression: SKIPPED: no baseline for device '${DEVICE}' (${BASELINE} does not exist). "
          "Record one on this machine with EDGEROOF_RECORD_BASELINE=1 ctest -L regression, or: "
          "${BENCH} ${shown_args} --benchmark_out=${BASELINE}")
  return()
endif()

get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${output_dir}")
file(REMOVE "${OUTPUT}")
execute_process(COMMAND "${BENCH}" ${bench_args} "--benchmark_out=${OUTPUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "edgeroof-regression: ${NAME}: edgeroof-bench failed (${rc})")
endif()
execute_process(COMMAND "${EDGEROOF}" compare "${BASELINE}" "${OUTPUT}" --threshold "${THRESHOLD}" --alpha "${ALPHA}"
                        --ctest-measurements
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "edgeroof-regression: REGRESSION in ${NAME}: edgeroof compare exited ${rc} against ${BASELINE} "
                      "(see the table above)")
endif()
