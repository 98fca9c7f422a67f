#include "edgeroof/results/keys.hpp"

#include <algorithm>
#include <iterator>

namespace edgeroof::results::counters {

bool is_non_negative(std::string_view counter) {
  static const char* const quantities[] = {flops,           bytes,     ai,       flop_rate, byte_rate, power_W,
                                           clock_min_ratio, throttled, energy_J, coverage,  layers};
  const std::string_view rail = rail_energy_prefix;
  return std::find(std::begin(quantities), std::end(quantities), counter) != std::end(quantities) ||
         counter.substr(0, rail.size()) == rail;
}

}  // namespace edgeroof::results::counters
