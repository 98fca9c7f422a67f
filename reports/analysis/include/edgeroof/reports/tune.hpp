// Choosing a power mode: the least energy under a latency bound (or the fastest under a power cap),
// the latency-energy Pareto front, the saving against MAXN, and the chosen mode as an
// nvpmodel.conf POWER_MODEL section.
#pragma once

#include "edgeroof/power/nvpmodel_writer.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/predict.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

struct TuneConstraint {
  enum class Kind { max_slowdown, max_latency, max_power };
  Kind kind = Kind::max_slowdown;
  double value = 0.05;  // fraction of the fastest latency, seconds, or watts
  [[nodiscard]] std::string describe() const;
};

// Why a mode is the one the saving is measured against.
enum class BaselineReason {
  maxn,      // named or keyed MAXN, or nvpmodel id 0
  grid_max,  // every knob at its maximum over the modes (grid_maxn)
  given,     // --baseline KEY
};
// "maxn", "grid_max", "given": the JSON token.
[[nodiscard]] const char* baseline_token(BaselineReason reason);
// "MAXN", "every knob at its maximum (grid equivalent of MAXN)", "--baseline".
[[nodiscard]] const char* baseline_text(BaselineReason reason);

// What the saving is measured against.
struct TuneBaselineOptions {
  std::optional<std::string> key;  // --baseline: this mode, whatever MAXN is
  // The knobs of the modes (knobs_of), for the grid equivalent of MAXN where no mode is MAXN;
  // empty: none is looked for.
  std::vector<ModeKnobs> knobs;
};

struct TuneBaseline {
  ModeCost mode;
  BaselineReason reason = BaselineReason::maxn;
  double saving_J = 0.0, saving_pct = 0.0;  // of the chosen mode against it, by prediction
};

struct TuneResult {
  ModeCost chosen, fastest;
  // MAXN, else its grid equivalent (maxn_reason says which), whatever --baseline names.
  std::optional<ModeCost> maxn;
  BaselineReason maxn_reason = BaselineReason::maxn;
  std::optional<double> saving_vs_maxn_J, saving_vs_maxn_pct;
  // What the saving is reported against: --baseline, else `maxn`; absent with `no_baseline` saying why.
  std::optional<TuneBaseline> baseline;
  std::string no_baseline;
  std::vector<ModeCost> pareto;  // ascending latency, descending energy
  std::string constraint;        // TuneConstraint::describe()
  std::size_t modes = 0;         // modes considered (those with an energy prediction)
  double bound_s = 0.0;          // the latency bound applied (0 under a power cap)
  // The margin: modes within the bound by their prediction whose interval reaches beyond it, left
  // out; and the mode the predictions alone would have chosen, where that is not `chosen`.
  std::size_t held_back = 0;
  std::optional<ModeCost> without_margin;
};

// Modes whose energy is unknown are left out. Throws InputError when no mode has an energy
// prediction or none meets the constraint (the message names the best that was possible).
//
// How far the upper end of a mode's 95% latency interval may pass a latency bound, as a share of
// the slack the bound grants over the fastest mode (--max-slowdown 5%: the upper end within 6%).
inline constexpr double kMarginShare = 0.2;

// The margin, where modes have intervals (ModeCost::latency_ci95, power_ci95): a mode is admitted
// only when its prediction keeps the bound and the upper end of its interval keeps it within
// kMarginShare of the slack (under a power cap: the upper end keeps the cap), so that a mode the
// model is unsure of keeps the bound nearly wherever in its interval the truth lies. Under --max-slowdown the bound is
// (1 + slowdown) times the predicted latency of the fastest mode (by prediction), which is always
// admitted itself. The energy objective is the prediction (tune.cpp says why).
//
// The baseline: `baseline.key` where given (InputError when that mode has no energy prediction),
// else MAXN (is_maxn, else nvpmodel id 0), else grid_maxn over the knobs of the modes considered.
[[nodiscard]] TuneResult tune(const std::vector<ModeCost>& modes, const TuneConstraint& constraint,
                              const TuneBaselineOptions& baseline = {});

// The grid equivalent of MAXN: the one mode with every knob (cpu_online, cpu_khz, gpu_hz, emc_hz at
// their largest, tpc_pg_mask with the fewest TPCs off; an absent mask is every TPC on) at its maximum
// over `modes`. A knob no mode records is left out; a mode that lacks a knob others record is not
// at its maximum. Of several such modes (the same knobs under two keys) the first. nullopt, with
// `why_none` naming each knob's maximum and a mode that has it, when no single mode has them all.
struct GridMaxn {
  std::optional<std::string> key;
  std::string why_none;
};
[[nodiscard]] GridMaxn grid_maxn(const std::vector<ModeKnobs>& modes);

// How to measure a mode with `edgeroof sweep`: its nvpmodel id (`nvpmodel:ID`) where it has one,
// else a grid of its knobs (`'grid:cores=8;cpu=1728000;gpu=612000000;emc=2133000000'`, the
// frequencies in kHz, Hz and Hz), quoted for a shell; nullopt for a mode without either.
[[nodiscard]] std::optional<std::string> sweep_modes_argument(const RooflineMode& mode);

// The modes no other mode beats in both latency and energy, by ascending latency.
[[nodiscard]] std::vector<ModeCost> pareto_front(std::vector<ModeCost> modes);

// MAXN: the mode named or keyed "MAXN" in any case ("nvp0-maxn" too), else nvpmodel id 0.
[[nodiscard]] bool is_maxn(const ModeCost& mode);

// The most CPU cores a board is taken to have; a count beyond it is a typo, not a board.
inline constexpr int kMaxCpuCount = power::max_board_cpus;

// A POWER_MODEL section that sets the mode's measured frequencies (CPU and GPU pinned, min = max;
// EMC capped) and CPU cores, with the CPU cluster PARAMs of `layout` (power::cpu_layout of the
// board's nvpmodel.conf); settings whose frequency was not measured are left out. Cores beyond
// cpu_online are switched off. Throws InputError for a core count outside 1..kMaxCpuCount, a mode
// with more cores online than that, a negative id, a CPU frequency and no cluster to set it, or a
// power_mode.tpc_pg_mask that is no mask.
[[nodiscard]] std::string nvpmodel_stanza(const RooflineMode& mode, int id, const power::CpuLayout& layout);
// The same for a Jetson AGX Orin of `cpu_count` cores (clusters CPU_A78_<n> of 4), the board
// assumed where no nvpmodel.conf is given.
[[nodiscard]] std::string nvpmodel_stanza(const RooflineMode& mode, int id, int cpu_count);

// "sudo nvpmodel -f FILE -m ID".
[[nodiscard]] std::string nvpmodel_command(const std::string& conf_file, int id);

[[nodiscard]] nlohmann::json to_json(const TuneResult& r);

}  // namespace edgeroof::reports
