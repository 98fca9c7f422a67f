# What the cmake -P tests of tests/cmake share: expect() counts a failed check in `failures` and
# prints it in one line; each test fails at its end with the count.
set(failures 0)
# expect(<name> <actual> <expected>)
function(expect name actual expected)
  if(NOT "${actual}" STREQUAL "${expected}")
    message("FAIL ${name}: got '${actual}', expected '${expected}'")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  endif()
endfunction()
