#include "edgeroof/reports/si.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace edgeroof::reports {

namespace {

std::string formatted(double v, int digits, const char* prefix, const std::string& unit) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g %s", digits, v, prefix);
  return buf + unit;
}

}  // namespace

std::string si(double value, const std::string& unit, int digits) {
  if (!std::isfinite(value)) return "not finite";
  if (value != 0.0 && std::fabs(value) < 1.0) return formatted(value, digits, "", unit);
  static const char* const prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  constexpr int last = 6;
  int p = 0;
  double v = value;
  while (std::fabs(v) >= 1000.0 && p < last) {
    v /= 1000.0;
    ++p;
  }
  // 999.96 rounds to "1e+03" at 3 digits: it is shown as 1 of the next prefix instead.
  char rounded[64];
  std::snprintf(rounded, sizeof(rounded), "%.*g", digits, v);
  if (std::fabs(std::strtod(rounded, nullptr)) >= 1000.0 && p < last) {
    v /= 1000.0;
    ++p;
  }
  return formatted(v, digits, prefixes[p], unit);
}

}  // namespace edgeroof::reports
