// A stand-in device test for test_support: its device is never there. Built twice, as a device
// test (EDGEROOF_DEVICE_TEST=1) and as a plain one, so test_device.cpp can run both and read what
// GoogleTest reports.
#include "device.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

class ProbeDevice : public ::testing::Test {
protected:
  void SetUp() override { EDGEROOF_DEVICE_MISSING("probe: no GPU at index 0"); }
};

TEST_F(ProbeDevice, MissingInSetUp) { std::puts("probe: the body ran"); }

TEST(ProbeNvml, MissingInTheBody) {
  EDGEROOF_DEVICE_MISSING(std::string("probe: ") + "cannot load libnvidia-ml.so.1");
  std::puts("probe: past the check");
}

}  // namespace
