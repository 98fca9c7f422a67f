// Device tests (edgeroof_add_test(... DEVICE), registered only with EDGEROOF_ENABLE_DEVICE_TESTS=ON)
// exist to run on their hardware. There, a GPU or NVML that is not found is a failure: a device
// run that skipped every test would pass and prove nothing. edgeroof_add_test defines
// EDGEROOF_DEVICE_TEST=1 for them; any other test that meets no device skips with the reason.
#pragma once

#include <gtest/gtest.h>

namespace edgeroof::test {

#if defined(EDGEROOF_DEVICE_TEST) && EDGEROOF_DEVICE_TEST
inline constexpr bool device_test_build = true;
#else
inline constexpr bool device_test_build = false;
#endif

}  // namespace edgeroof::test

// Where a test finds no usable device: fails with `reason` in a device test, skips with it
// elsewhere. Like GTEST_SKIP and FAIL it returns from the current function (in SetUp, the test
// body then does not run).
#define EDGEROOF_DEVICE_MISSING(reason) EDGEROOF_DEVICE_MISSING_IN(::edgeroof::test::device_test_build, reason)

// The same with the kind of build given, for testing the helper itself.
#define EDGEROOF_DEVICE_MISSING_IN(device_build, reason)                                            \
  do {                                                                                              \
    if (device_build) {                                                                             \
      GTEST_FAIL() << "no device in a device test (EDGEROOF_ENABLE_DEVICE_TESTS=ON): " << (reason); \
    } else {                                                                                        \
      GTEST_SKIP() << (reason);                                                                     \
    }                                                                                               \
  } while (false)
