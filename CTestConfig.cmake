# CDash settings, read by ctest -S (cmake/edgeroof-dashboard.cmake) from the source folder. The
# project names no server: a user who runs CDash sets the drop site, and nothing is submitted
# without one.
#   EDGEROOF_CDASH_SUBMIT_URL   e.g. https://my.cdash.org/submit.php?project=edgeroof
# (as -DEDGEROOF_CDASH_SUBMIT_URL=... to ctest -S, or in the environment).
set(CTEST_PROJECT_NAME "edgeroof")
set(CTEST_NIGHTLY_START_TIME "01:00:00 UTC")
if(NOT DEFINED EDGEROOF_CDASH_SUBMIT_URL AND DEFINED ENV{EDGEROOF_CDASH_SUBMIT_URL})
  set(EDGEROOF_CDASH_SUBMIT_URL "$ENV{EDGEROOF_CDASH_SUBMIT_URL}")
endif()
if(EDGEROOF_CDASH_SUBMIT_URL)
  set(CTEST_SUBMIT_URL "${EDGEROOF_CDASH_SUBMIT_URL}")
endif()
