#include "harness.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace edgeroof::bench {

EnergyWindow::EnergyWindow(benchmark::State& state) : m_state(state) {}

void EnergyWindow::finish() {
  // Without a sensor there is no energy to report: the counters stay absent, never zero.
  m_finished = true;
  (void)m_state;
}

void set_work_counters(benchmark::State& state, const Work& w) {
  using benchmark::Counter;
  state.counters["flops"] = Counter(w.flops);
  state.counters["bytes"] = Counter(w.bytes);
  state.counters["ai"] = Counter(w.bytes > 0 ? w.flops / w.bytes : 0.0);
  // Rates: per-iteration work times iterations over the (real or manual) time of the run.
  state.counters["FLOP/s"] = Counter(w.flops, Counter::kIsIterationInvariantRate);
  state.counters["B/s"] = Counter(w.bytes, Counter::kIsIterationInvariantRate, Counter::kIs1024);
}

bool check_result(benchmark::State& state, double max_relative_error, double tolerance) {
  if (std::isfinite(max_relative_error) && max_relative_error <= tolerance) return true;
  char msg[160];
  std::snprintf(msg, sizeof(msg), "result check failed: relative error %.3g exceeds %.3g", max_relative_error, tolerance);
  state.SkipWithError(msg);
  return false;
}

std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", x);
  return buf;
}

std::string memory_level(std::uint64_t ws, const std::uint64_t* capacities, int levels) {
  if (levels <= 0) return "dram";
  for (int l = 0; l < levels; ++l) {
    const std::uint64_t below = l == 0 ? 0 : capacities[l - 1];
    if (ws > below && ws <= capacities[l] / 2) return "l" + std::to_string(l + 1);
  }
  if (ws >= 4 * capacities[levels - 1]) return "dram";
  return "mixed";
}

std::uint64_t passes_for(std::uint64_t bytes_per_pass, std::uint64_t target_bytes) {
  if (bytes_per_pass == 0) return 1;
  return std::max<std::uint64_t>(1, (target_bytes + bytes_per_pass - 1) / bytes_per_pass);
}

}  // namespace edgeroof::bench
