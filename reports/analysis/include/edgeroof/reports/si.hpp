// Figures for people, the one formatter every table, chart title and page uses: `digits`
// significant digits and a decimal prefix from k to E for 1000 and above ("5.1 TFLOP/s",
// "768 GB/s"); below 1 the plain number without a prefix ("0.0123 s", "7.1e-12 J"), as the
// predict and tune tables have always shown it; "not finite" for NaN and infinities.
#pragma once

#include <string>

namespace edgeroof::reports {

[[nodiscard]] std::string si(double value, const std::string& unit, int digits = 3);

}  // namespace edgeroof::reports
