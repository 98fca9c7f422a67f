// EDGEROOF_DEVICE_MISSING fails a device test and skips any other one, with the reason, and the
// test stops where it was called: run on device_probe.cpp built both ways.
#include "device.hpp"
#include "program.hpp"

#include <gtest/gtest.h>

#include <string>

namespace edgeroof::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(DeviceMissing, FailsADeviceTestWithTheReason) {
  const auto r = run_program(EDGEROOF_DEVICE_PROBE_DEVICE, {});
  EXPECT_EQ(r.exit_code, 1) << r.status() << "\n" << r.out;
  EXPECT_TRUE(contains(r.out, "no device in a device test (EDGEROOF_ENABLE_DEVICE_TESTS=ON): probe: no GPU at index 0"))
      << r.out;
  EXPECT_TRUE(contains(r.out,
                       "no device in a device test (EDGEROOF_ENABLE_DEVICE_TESTS=ON): probe: cannot load "
                       "libnvidia-ml.so.1"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "[  FAILED  ] ProbeDevice.MissingInSetUp")) << r.out;
  EXPECT_TRUE(contains(r.out, "[  FAILED  ] ProbeNvml.MissingInTheBody")) << r.out;
  EXPECT_TRUE(contains(r.out, "2 FAILED TESTS")) << r.out;
  EXPECT_FALSE(contains(r.out, "probe: the body ran")) << r.out;
  EXPECT_FALSE(contains(r.out, "probe: past the check")) << r.out;
}

TEST(DeviceMissing, SkipsAnyOtherTestWithTheReason) {
  const auto r = run_program(EDGEROOF_DEVICE_PROBE_PLAIN, {});
  EXPECT_EQ(r.exit_code, 0) << r.status() << "\n" << r.out;
  EXPECT_TRUE(contains(r.out, "probe: no GPU at index 0")) << r.out;
  EXPECT_TRUE(contains(r.out, "probe: cannot load libnvidia-ml.so.1")) << r.out;
  EXPECT_TRUE(contains(r.out, "[  SKIPPED ] ProbeDevice.MissingInSetUp")) << r.out;
  EXPECT_TRUE(contains(r.out, "[  SKIPPED ] ProbeNvml.MissingInTheBody")) << r.out;
  EXPECT_FALSE(contains(r.out, "FAILED")) << r.out;
  EXPECT_FALSE(contains(r.out, "EDGEROOF_ENABLE_DEVICE_TESTS")) << r.out;
  EXPECT_FALSE(contains(r.out, "probe: the body ran")) << r.out;
  EXPECT_FALSE(contains(r.out, "probe: past the check")) << r.out;
}

TEST(DeviceMissing, ThisTestIsNoDeviceTest) { EXPECT_FALSE(device_test_build); }

}  // namespace
}  // namespace edgeroof::test
