# What tests/install's cmake -P checks share: require() names a missing -D, fail() stops the check
# with its message, run() runs a command that must exit 0.
# require(<script> <variable>...): stops with "<script>: -D<variable>= is required" for the first
# variable that is unset or empty.
function(require script)
  foreach(v IN LISTS ARGN)
    if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
      message(FATAL_ERROR "${script}: -D${v}= is required")
    endif()
  endforeach()
endfunction()

# fail(<text>...): one message, the pieces joined.
function(fail)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "${CHECK_NAME} check: ${text}")
endfunction()

# run(<out> <command...>): runs a command, which must exit 0; <out> gets its stdout.
function(run out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  if(NOT rc EQUAL 0)
    string(JOIN " " line ${ARGN})
    fail("${line} exited with ${rc}\n${stdout}${stderr}")
  endif()
  set(${out} "${stdout}" PARENT_SCOPE)
endfunction()
