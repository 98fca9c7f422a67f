#include "sweep_adaptive.hpp"

#include "cli.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode_select.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "mode_space_args.hpp"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace edgeroof::cli {
namespace {

namespace fs = std::filesystem;

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f%%", 100.0 * fraction);
  return text;
}

// One adaptive sweep: what it has learnt so far across rounds.
class AdaptiveSweep {
public:
  AdaptiveSweep(power::ModeController& controller, const AdaptivePlan& adaptive, const power::SweepOptions& options,
                std::ostream& log)
      : m_controller(controller), m_adaptive(adaptive), m_options(options), m_log(log) {
    nlohmann::json doc = {{"modes", nlohmann::json::array()}};
    for (const auto& m : adaptive.modes) {
      doc["modes"].push_back(power::mode_to_json(m));
      m_by_key.emplace(m.key, &m);
    }
    m_knobs = reports::modes_from_json(doc, "the sweep's modes");
  }

  int run() {
    for (int round = 1;; ++round) {
      if (m_options.stop_requested && m_options.stop_requested()) return interrupted();
      const auto measured = measured_in(m_options.out_dir);
      if (!measured.modes.empty() && model(round, measured)) break;
      const auto plan = reports::plan_modes(open_candidates(measured), measured, m_adaptive.plan);
      if (plan.measure.empty()) {
        m_log << "adaptive sweep: " << plan.measured << " of a budget of " << plan.budget
              << " measured; budget reached\n";
        break;
      }
      const auto share = share_of_round(plan);
      if (share.empty()) {
        m_log << "adaptive sweep: round " << round << ": none of the " << plan.measure.size()
              << " planned modes is shard " << m_adaptive.shard->text() << "'s; stopping\n";
        break;
      }
      const auto summary = measure(round, plan, share);
      if (m_options.dry_run) return 0;
      if (summary.interrupted) return interrupted();
      m_failed += summary.failed;
      if (summary.done + summary.skipped == 0) {
        m_log << "adaptive sweep: round " << round << " measured none of its modes; stopping\n";
        break;
      }
    }
    return finish();
  }

private:
  // The candidates less the modes this run already tried and got no results for (they failed).
  std::vector<reports::ModeKnobs> open_candidates(const reports::Rooflines& measured) const {
    std::set<std::string> have;
    for (const auto& m : measured.modes) have.insert(m.key);
    std::vector<reports::ModeKnobs> open;
    for (const auto& k : m_knobs) {
      if (m_tried.count(k.key) == 0 || have.count(k.key) != 0) open.push_back(k);
    }
    return open;
  }

  // The round's planned modes this board measures: all of them, or its shard of the plan's order.
  std::vector<std::string> share_of_round(const reports::Plan& plan) const {
    return m_adaptive.shard ? power::shard_of(plan.measure, *m_adaptive.shard) : plan.measure;
  }

  power::SweepSummary measure(int round, const reports::Plan& plan, const std::vector<std::string>& share) {
    std::string keys;
    std::vector<power::PowerMode> modes;
    for (const auto& key : share) {
      keys += (keys.empty() ? "" : ", ") + key;
      modes.push_back(*m_by_key.at(key));
      m_tried.insert(key);
    }
    m_log << "adaptive sweep: round " << round << ": " << plan.measured << " of a budget of " << plan.budget
          << " measured; measuring " << share.size();
    if (m_adaptive.shard)
      m_log << " of the round's " << plan.measure.size() << " (shard " << m_adaptive.shard->text() << ")";
    m_log << ": " << keys << "\n";
    return power::run_sweep(&m_controller, modes, m_options, m_log);
  }

  // Fits the measured modes, models every candidate and writes rooflines.json; true when the
  // watched predictions moved less than kConvergedChange since the last round.
  bool model(int round, const reports::Rooflines& measured) {
    reports::Rooflines all;
    try {
      all = reports::predict_modes(measured, m_knobs);
    } catch (const reports::InputError& e) {
      m_model_error = e.what();
      m_log << "adaptive sweep: round " << round << ": no mode-space model yet: " << e.what() << "\n";
      return false;
    }
    m_model_error.reset();
    for (const auto& w : all.warnings) m_log << "edgeroof sweep: warning: " << w << "\n";
    const auto doc = reports::to_json(all);
    (void)reports::rooflines_from_json(doc, "the modeled rooflines");
    const fs::path path = m_options.out_dir / "rooflines.json";
    power::atomic_write(path, json_text(doc));
    m_log << "adaptive sweep: round " << round << ": rooflines of " << all.modes.size() << " modes ("
          << measured.modes.size() << " measured) written to " << path.string() << "\n";
    auto watched = reports::watched_predictions(all);
    const bool first = !m_watched.has_value();
    const double change = first ? INFINITY : reports::largest_change(*m_watched, watched);
    m_watched = std::move(watched);
    if (first) return false;
    m_log << "adaptive sweep: round " << round << ": largest change of the watched predictions "
          << (std::isfinite(change) ? percent(change) : std::string("unknown (nothing to compare)")) << "\n";
    if (!(change < kConvergedChange)) return false;
    m_log << "adaptive sweep: predictions moved less than " << percent(kConvergedChange) << "; stopping\n";
    return true;
  }

  int interrupted() const {
    m_log << "adaptive sweep: interrupted; no further round\n";
    const int sig = power::StopSignals::signal_number();
    return 128 + (sig != 0 ? sig : SIGINT);
  }

  int finish() const {
    if (m_model_error) {
      m_log << "adaptive sweep: no rooflines for the modes: " << *m_model_error << "\n";
      return 1;
    }
    if (m_failed > 0)
      m_log << "adaptive sweep: " << m_failed << " mode(s) failed (reasons in "
            << (m_options.out_dir / "failed.json").string() << ")\n";
    return m_failed > 0 ? 1 : 0;
  }

  power::ModeController& m_controller;
  const AdaptivePlan& m_adaptive;
  const power::SweepOptions& m_options;
  std::ostream& m_log;
  std::vector<reports::ModeKnobs> m_knobs;
  std::map<std::string, const power::PowerMode*> m_by_key;
  std::set<std::string> m_tried;
  std::optional<std::vector<reports::WatchedPrediction>> m_watched;
  std::optional<std::string> m_model_error;
  int m_failed = 0;
};

}  // namespace

int run_adaptive(power::ModeController& controller, const AdaptivePlan& adaptive, const power::SweepOptions& options,
                 std::ostream& log) {
  return AdaptiveSweep(controller, adaptive, options, log).run();
}

}  // namespace edgeroof::cli
