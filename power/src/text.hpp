// Number and list formatting shared by the sweep's messages (internal to power/).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace edgeroof::power::detail {

// `v` with `decimals` digits after the point: "0.100", "41.0".
inline std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

inline std::string joined(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
}

}  // namespace edgeroof::power::detail
