# One CDash dashboard run: configure, build, test (regression gates included, their
# <CTestMeasurement> figures charted) and, only when a drop site is set, submit.
#   ctest -S cmake/edgeroof-dashboard.cmake [-DEDGEROOF_CDASH_SUBMIT_URL=https://my.cdash.org/submit.php?project=edgeroof]
#         [-DEDGEROOF_DASHBOARD_MODEL=Experimental|Nightly|Continuous] [-DEDGEROOF_DASHBOARD_BUILD_DIR=DIR]
#         [-DEDGEROOF_DASHBOARD_CONFIGURE_ARGS="-DEDGEROOF_ENABLE_CUDA=OFF"] [-DEDGEROOF_DASHBOARD_EXCLUDE_LABELS=device]
#         [-DEDGEROOF_DASHBOARD_JOBS=2]
# The site is this host's name and the build name its system and processor unless CTEST_SITE or
# CTEST_BUILD_NAME is given. Without EDGEROOF_CDASH_SUBMIT_URL (or the environment variable of that
# name) nothing leaves the machine: the results stay in <build>/Testing/.
cmake_minimum_required(VERSION 3.21)

get_filename_component(CTEST_SOURCE_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(defaults EDGEROOF_DASHBOARD_MODEL Experimental EDGEROOF_DASHBOARD_BUILD_DIR "${CTEST_SOURCE_DIRECTORY}/build-dashboard"
             EDGEROOF_DASHBOARD_EXCLUDE_LABELS device EDGEROOF_DASHBOARD_JOBS 2)
while(defaults)
  list(POP_FRONT defaults key value)
  if(NOT DEFINED ${key})
    set(${key} "${value}")
  endif()
endwhile()
set(CTEST_BINARY_DIRECTORY "${EDGEROOF_DASHBOARD_BUILD_DIR}")
if(NOT CTEST_SITE)
  cmake_host_system_information(RESULT CTEST_SITE QUERY HOSTNAME)
endif()
if(NOT CTEST_BUILD_NAME)
  set(CTEST_BUILD_NAME "${CMAKE_HOST_SYSTEM_NAME}-${CMAKE_HOST_SYSTEM_PROCESSOR}")
endif()
set(CTEST_CMAKE_GENERATOR Ninja)
set(CTEST_BUILD_FLAGS "-j${EDGEROOF_DASHBOARD_JOBS}")
separate_arguments(configure_args UNIX_COMMAND "${EDGEROOF_DASHBOARD_CONFIGURE_ARGS}")

ctest_start(${EDGEROOF_DASHBOARD_MODEL})  # reads CTestConfig.cmake: project name, drop site
ctest_configure(OPTIONS "-DCMAKE_BUILD_TYPE=Release;${configure_args}" RETURN_VALUE configure_rc)
ctest_build(RETURN_VALUE build_rc)
ctest_test(EXCLUDE_LABEL "${EDGEROOF_DASHBOARD_EXCLUDE_LABELS}" RETURN_VALUE test_rc)
if(CTEST_SUBMIT_URL)
  ctest_submit(RETURN_VALUE submit_rc)
else()
  message("edgeroof-dashboard: no EDGEROOF_CDASH_SUBMIT_URL: nothing submitted; results in ${CTEST_BINARY_DIRECTORY}/Testing")
endif()
if(NOT configure_rc EQUAL 0 OR NOT build_rc EQUAL 0 OR NOT test_rc EQUAL 0)
  message(FATAL_ERROR "edgeroof-dashboard: configure ${configure_rc}, build ${build_rc}, test ${test_rc}")
endif()
