// The one SI formatter (si.hpp): the forms the predict, tune, fit, model and compare tables, the
// chart titles and index.html show.
#include "edgeroof/reports/si.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using edgeroof::reports::si;

TEST(Si, PrefixesFromKiloUp) {
  EXPECT_EQ(si(5.1e12, "FLOP/s"), "5.1 TFLOP/s");
  EXPECT_EQ(si(1.5e11, "B/s"), "150 GB/s");
  EXPECT_EQ(si(3e9, ""), "3 G");  // the FLOP column of `edgeroof model`
  EXPECT_EQ(si(1300500000.0, "Hz"), "1.3 GHz");
  EXPECT_EQ(si(1234.0, "J", 4), "1.234 kJ");
  EXPECT_EQ(si(-2500.0, "W"), "-2.5 kW");
  EXPECT_EQ(si(11.2, "W"), "11.2 W");
  EXPECT_EQ(si(2.5e18, "B"), "2.5 EB");
}

TEST(Si, BelowOneThePlainNumber) {
  EXPECT_EQ(si(0.0, "J"), "0 J");
  EXPECT_EQ(si(0.0123, "s"), "0.0123 s");
  EXPECT_EQ(si(7.1e-12, "J/FLOP"), "7.1e-12 J/FLOP");
  EXPECT_EQ(si(-0.5, "W"), "-0.5 W");
  EXPECT_EQ(si(0.123456, "s", 4), "0.1235 s");
}

TEST(Si, RoundingUpToAThousandTakesTheNextPrefix) {
  EXPECT_EQ(si(999999.0, "B"), "1 MB");
  EXPECT_EQ(si(999.4, "B"), "999 B");
  EXPECT_EQ(si(999.96, "J", 4), "1 kJ");
}

TEST(Si, NotFiniteSaysSo) {
  EXPECT_EQ(si(std::numeric_limits<double>::infinity(), "s"), "not finite");
  EXPECT_EQ(si(-std::numeric_limits<double>::infinity(), "s"), "not finite");
  EXPECT_EQ(si(std::nan(""), "J"), "not finite");
}
