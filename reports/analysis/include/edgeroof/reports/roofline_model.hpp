// The two rooflines of one power mode, for one compute ceiling and one memory level: the formulas
// of README.md's Contracts in one place, used by predict (per layer and summed over a workload) and
// by the charts of plot (per byte moved, over intensity). Calibration and the mode-space model plug
// in here: they change the figures a model is built from, not the formulas.
//
//   time     t = max(W / F, Q / B)              [s]       W FLOP, Q bytes
//   energy   E = W·ε_flop + Q·ε_byte + π0·t     [J]
//   intensity I = W / Q [FLOP/B], ridge point F / B [FLOP/B], attainable FLOP/s = min(F, I·B),
//   energy efficiency W / E [FLOP/J].
#pragma once

#include "edgeroof/reports/fit.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace edgeroof::reports {

struct RooflineModel {
  double flops_per_s = 0.0;  // F: the compute ceiling [FLOP/s]
  double bytes_per_s = 0.0;  // B: the bandwidth of the memory level [B/s]
  // From the mode's energy fit; absent where the mode was measured without a sensor or its fit
  // has no ε for this ceiling's dtype or this level.
  std::optional<double> eps_flop_J;  // ε_flop [J/FLOP]
  std::optional<double> eps_byte_J;  // ε_byte [J/B]
  std::optional<double> static_W;    // π0 [W]

  [[nodiscard]] bool has_energy() const { return eps_flop_J && eps_byte_J && static_W; }

  [[nodiscard]] double compute_time_s(double flops) const { return flops / flops_per_s; }
  [[nodiscard]] double memory_time_s(double bytes) const { return bytes / bytes_per_s; }
  [[nodiscard]] double time_s(double flops, double bytes) const {
    return std::max(compute_time_s(flops), memory_time_s(bytes));
  }
  // Ties count as compute-bound.
  [[nodiscard]] bool compute_bound(double flops, double bytes) const {
    return compute_time_s(flops) >= memory_time_s(bytes);
  }
  [[nodiscard]] double ridge_point() const { return flops_per_s / bytes_per_s; }  // FLOP/B
  [[nodiscard]] double attainable_flops_per_s(double intensity) const {
    return std::min(flops_per_s, intensity * bytes_per_s);
  }

  // The energy of the work itself, W·ε_flop + Q·ε_byte, without π0: a sum of layers charges π0
  // once for its whole latency. Needs has_energy().
  [[nodiscard]] double work_energy_J(double flops, double bytes) const {
    return flops * *eps_flop_J + bytes * *eps_byte_J;
  }
  // E = W·ε_flop + Q·ε_byte + π0·t, t = time_s(W, Q). Needs has_energy().
  [[nodiscard]] double energy_J(double flops, double bytes) const {
    return work_energy_J(flops, bytes) + *static_W * time_s(flops, bytes);
  }
  // E / Q at intensity I: I·ε_flop + ε_byte + π0·max(I/F, 1/B). Needs has_energy().
  [[nodiscard]] double energy_per_byte_J(double intensity) const {
    return intensity * *eps_flop_J + *eps_byte_J + *static_W * seconds_per_byte(intensity);
  }
  // W / E at intensity I [FLOP/J]. Needs has_energy().
  [[nodiscard]] double flops_per_J(double intensity) const { return intensity / energy_per_byte_J(intensity); }
  // Average power E / t at intensity I: (I·ε_flop + ε_byte) / max(I/F, 1/B) + π0 [W]. Needs has_energy().
  [[nodiscard]] double power_W(double intensity) const {
    return (intensity * *eps_flop_J + *eps_byte_J) / seconds_per_byte(intensity) + *static_W;
  }

private:
  [[nodiscard]] double seconds_per_byte(double intensity) const {
    return std::max(intensity / flops_per_s, 1.0 / bytes_per_s);
  }
};

// The model of `mode` for the ceiling `backend/ceiling` (a dtype, "fp16-tensor" for a tensor
// ceiling) and the bandwidth `backend/level` of rooflines.json, with the energy constants of the
// backend's fit where it has them (ε_flop of the ceiling, ε_byte of the level, π0). nullopt when
// the mode has no such ceiling or bandwidth.
[[nodiscard]] inline std::optional<RooflineModel> roofline_model(const RooflineMode& mode, const std::string& backend,
                                                                 const std::string& ceiling, const std::string& level) {
  const auto compute = mode.compute_flops_per_s.find(backend + "/" + ceiling);
  const auto bandwidth = mode.bandwidth_bytes_per_s.find(backend + "/" + level);
  if (compute == mode.compute_flops_per_s.end() || bandwidth == mode.bandwidth_bytes_per_s.end()) return std::nullopt;
  RooflineModel out;
  out.flops_per_s = compute->second.value;
  out.bytes_per_s = bandwidth->second.value;
  if (const auto fit = mode.energy.find(backend); fit != mode.energy.end()) {
    if (const auto e = fit->second.eps_flop_J.find(ceiling); e != fit->second.eps_flop_J.end())
      out.eps_flop_J = e->second;
    if (const auto e = fit->second.eps_byte_J.find(level); e != fit->second.eps_byte_J.end())
      out.eps_byte_J = e->second;
    out.static_W = fit->second.static_W;
  }
  return out;
}

}  // namespace edgeroof::reports
