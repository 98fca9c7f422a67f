// Fuzz body for the parsers that read text edgeroof does not control: tegrastats logs and hwmon
// attributes (values and channel labels). Built with libFuzzer (clang -fsanitize=fuzzer) where
// clang is available, and always replayed over the fixture corpus by fuzz_replay.cpp.
#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sensor_ina3221.hpp"
#include "edgeroof/power/sensor_tegrastats.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A broken promise of a parser is a crash the fuzzer reports, like a memory error.
void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgeroof::power;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto sample = parse_tegrastats_line(text);
  for (const auto& [rail, mW] : sample.rail_mW) require(!rail.empty() && mW >= 0.0 && std::isfinite(mW));
  for (const auto& [unit, util] : sample.util_percent) require(util >= 0 && util <= 100 && !unit.empty());

  std::istringstream in{std::string(text)};
  const auto log = parse_tegrastats(in, 0.1);
  require(log.samples.size() == log.time_s.size());
  for (const auto& [rail, joules] : tegrastats_energy_J(log, 0.05, 1.0e3))
    require(joules >= 0.0 && std::isfinite(joules));

  if (const auto v = parse_int64(text)) {
    // Whatever parses is the number its digits say: printing it back gives the digits again.
    std::string_view digits = text;
    while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ' || digits.back() == '\t'))
      digits.remove_suffix(1);
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    std::string_view printed_digits = digits;
    const bool negative = !printed_digits.empty() && printed_digits.front() == '-';
    if (negative) printed_digits.remove_prefix(1);
    while (printed_digits.size() > 1 && printed_digits.front() == '0') printed_digits.remove_prefix(1);
    const std::string expect = (negative && printed_digits != "0" ? "-" : "") + std::string(printed_digits);
    require(std::to_string(*v) == expect);
  }

  // Each line a channel label, as ina3221 hwmon lists them; the classification must stay sane.
  std::vector<Rail> rails;
  std::size_t at = 0;
  while (at <= text.size() && rails.size() < 64) {
    const auto end = std::min(text.find('\n', at), text.size());
    if (const auto label = detail::parse_hwmon_label(text.substr(at, end - at))) {
      require(!label->empty() && *label != "NC");
      for (char c : *label) require(c != '\n' && c != ' ' && c != '/');
      rails.push_back({*label, "mV*mA", false, ""});
    }
    at = end + 1;
  }
  detail::classify_rails(rails);
  int totals = 0;
  for (const auto& r : rails) {
    totals += r.board_total ? 1 : 0;
    require(!(r.board_total && !r.inside.empty()));
  }
  require(totals <= 1);
  return 0;
}
