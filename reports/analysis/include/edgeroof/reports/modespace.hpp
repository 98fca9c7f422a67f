// The mode-space model: every roofline parameter as a function of a power mode's knobs (CPU cores
// online, CPU, GPU and EMC clocks, GPU TPCs on), shaped by physics and fitted jointly to the
// measured modes, so that a board's every mode gets rooflines after a few of them were measured.
//
//   compute ceiling   F = a · f^β · u^γ               (f the backend's clock, u its units: TPCs on, cores)
//   bandwidth         B = smin_p(a_m · f_mem^β_m, a_c · f^β_c · u^γ_c)   (memory side vs what compute pulls)
//   ε_flop, on-chip ε_byte   e0 + e1·x + e2·x²,  x = max(0, f − f_knee) / f_max  (dynamic ∝ V², V flat below the knee)
//   ε_byte (DRAM)     a function of the EMC clock: e0 + e1·f_mem + e2 / f_mem
//   π0                board + cores·(c0 + c1·x_cpu + c2·x_cpu²) + u·(g0 + g1·x + g2·x²) + (m0 + m1·f_mem)
//
// All coefficients and exponents are non-negative (the monotonicity constraints), knees and the
// smooth-minimum sharpness are chosen by least squares; nothing of one board is a constant here.
// Each measured mode's figure is weighted by its own interval (ci95) where it has one.
#pragma once

#include "edgeroof/reports/fit.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

// A mode's knobs as the model sees them: a modes.json entry or a fitted mode's frequencies.
struct ModeKnobs {
  std::string key, name;
  std::optional<int> id;
  std::optional<int> cpu_online;
  std::optional<std::int64_t> cpu_khz, gpu_hz, emc_hz;
  std::optional<std::int64_t> tpc_pg_mask;  // set bit = TPC off
};

// The knob names used in messages and in "extrapolated": cpu_online, cpu_khz, gpu_hz, emc_hz,
// tpc_pg_mask.
[[nodiscard]] ModeKnobs knobs_of(const RooflineMode& mode);

// modes.json, the output of `edgeroof modes --format json`: {"modes": [{"key", "name", "id",
// "cpu_online", "cpu_max_khz", "gpu_max_hz", "emc_max_hz", "tpc_pg_mask"}]}. Every field is checked;
// a wrong type, an impossible value, or two modes with one key throws InputError naming `origin`,
// modes[i] and the field. An empty list is refused.
[[nodiscard]] std::vector<ModeKnobs> modes_from_json(const nlohmann::json& doc, const std::string& origin);
[[nodiscard]] std::vector<ModeKnobs> load_modes_file(const std::filesystem::path& path);

// One fitted parameter function (one roofline figure across modes), for reports and tests.
struct ParameterModel {
  std::string figure;       // "compute_flops_per_s/cuda/fp32", "energy/cuda/static_W", ...
  std::string form;         // the formula, with its fitted coefficients
  std::size_t modes = 0;    // measured modes it was fitted to
  double rms_relative = 0;  // of its residuals against those modes
};

class ModeSpaceModel {
public:
  // Fits every figure the measured modes share. Throws InputError when `targets` vary a knob
  // that the measured modes never varied ("gpu_hz cannot be predicted: every measured mode has
  // gpu_hz = 1300500000"), or when fewer modes than a figure's parameters were measured.
  [[nodiscard]] static ModeSpaceModel fit(const Rooflines& measured, const std::vector<ModeKnobs>& targets);

  // A modeled mode: source "modeled", a ci95 beside every figure, `extrapolated` naming the knobs
  // outside the measured range.
  [[nodiscard]] RooflineMode predict(const ModeKnobs& mode) const;

  [[nodiscard]] const std::vector<ParameterModel>& parameters() const { return m_parameters; }

  struct Impl;

private:
  std::vector<ParameterModel> m_parameters;
  std::shared_ptr<const Impl> m_impl;
};

// Every mode of `targets`, in its order: a measured one (same key) as fitted, the others modeled.
// Measured modes that are not in `targets` are left out. Warnings say what was extrapolated.
[[nodiscard]] Rooflines predict_modes(const Rooflines& measured, const std::vector<ModeKnobs>& targets);

// The rooflines to decide by (tune, plan): a measured mode that carries the model's prediction
// (`modeled`) gets, figure by figure, the precision-weighted mean of its measurement and that
// prediction, with the narrower interval of the two combined; the others are as they are. One
// measurement is one draw of its noise: choosing the least energy among many such draws favours
// the luckiest, and a lucky fastest mode tightens every latency bound.
[[nodiscard]] Rooflines decision_rooflines(const Rooflines& rooflines);

}  // namespace edgeroof::reports
