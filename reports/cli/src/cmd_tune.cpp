#include "commands.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/nvpmodel_writer.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/findings.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/tune.hpp"
#include "model_args.hpp"
#include "tune_verify.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>

namespace edgeroof::cli {
namespace {

reports::TuneConstraint constraint_of(const Args& args) {
  const int given = (args.has("--max-slowdown") ? 1 : 0) + (args.has("--max-latency-ms") ? 1 : 0) +
                    (args.has("--max-power-W") ? 1 : 0);
  if (given > 1) throw UsageError("give one of --max-slowdown, --max-latency-ms, --max-power-W");
  using Kind = reports::TuneConstraint::Kind;
  if (const auto ms = args.number("--max-latency-ms")) {
    if (*ms <= 0.0) throw UsageError("--max-latency-ms must be positive");
    return {Kind::max_latency, *ms * 1e-3};
  }
  if (const auto w = args.number("--max-power-W")) {
    if (*w <= 0.0) throw UsageError("--max-power-W must be positive");
    return {Kind::max_power, *w};
  }
  const double slowdown = args.percent("--max-slowdown").value_or(0.05);
  if (slowdown < 0.0) throw UsageError("--max-slowdown cannot be negative");
  return {Kind::max_slowdown, slowdown};
}

const reports::RooflineMode& find_mode(const reports::Rooflines& r, const std::string& key) {
  for (const auto& m : r.modes) {
    if (m.key == key) return m;
  }
  throw reports::InputError("mode " + key + " vanished from the rooflines");  // cannot happen: costs come from r
}

std::string interval_text(const std::optional<reports::Interval>& ci, const char* unit) {
  return ci ? " [" + si(ci->lo, unit) + ", " + si(ci->hi, unit) + "]" : "";
}

// A mode's row; a modeled mode's says so, and a mode with intervals shows its latency's.
std::string row_text(const std::string& what, const reports::ModeCost& m) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%-8s %-44s %12s %12s %10s", what.c_str(), m.key.c_str(),
                si(m.latency_s, "s").c_str(), si(*m.energy_J, "J").c_str(), si(*m.energy_J / m.latency_s, "W").c_str());
  std::string row = buf;
  if (m.modeled()) row += "  modeled";
  if (m.latency_ci95) row += "  latency 95%" + interval_text(m.latency_ci95, "s");
  return row + "\n";
}

// What a modeled choice asks of the user: measure it (edgeroof sweep) or verify it.
std::string modeled_note(const reports::TuneResult& result, const reports::RooflineMode& chosen) {
  if (!result.chosen.modeled()) return "";
  std::string text = "the chosen mode is modeled, not measured: measure it with ";
  if (const auto modes = reports::sweep_modes_argument(chosen)) {
    text += "`edgeroof sweep --modes " + *modes + " --out results/`";
  } else {
    text += "`edgeroof sweep` in that mode";
  }
  text += " (or verify it with --verify)";
  if (!chosen.extrapolated.empty()) {
    std::string knobs;
    for (const auto& k : chosen.extrapolated) knobs += (knobs.empty() ? "" : ", ") + k;
    text += "; extrapolated beyond the measured modes in " + knobs;
  }
  return text;
}

// What the margin held back, and how to measure the mode it would otherwise have chosen (a
// measured mode's interval is narrow: measuring it is what lets tune choose it).
std::string margin_note(const reports::TuneResult& result, const reports::Rooflines& rooflines) {
  if (result.held_back == 0) return "";
  std::string text = std::to_string(result.held_back) +
                     " mode(s) within the bound by their prediction were held back: the upper end of their 95% "
                     "interval is beyond it";
  if (!result.without_margin) return text;
  const auto& m = *result.without_margin;
  text += "; by the predictions alone " + m.key + " (" + si(*m.energy_J, "J") + ") would have been chosen";
  if (const auto modes = reports::sweep_modes_argument(find_mode(rooflines, m.key)); modes && m.modeled())
    text += ": measure it with `edgeroof sweep --modes " + *modes + " --out results/`";
  return text;
}

// --baseline KEY must name a mode of the rooflines; the knobs of every mode let tune find the grid
// equivalent of MAXN.
reports::TuneBaselineOptions baseline_options_of(const Args& args, const reports::Rooflines& rooflines) {
  reports::TuneBaselineOptions options;
  for (const auto& m : rooflines.modes) options.knobs.push_back(reports::knobs_of(m));
  options.key = args.get("--baseline");
  if (!options.key) return options;
  for (const auto& m : rooflines.modes) {
    if (m.key == *options.key) return options;
  }
  std::string known;
  const std::size_t shown = std::min<std::size_t>(3, rooflines.modes.size());
  for (std::size_t i = 0; i < shown; ++i) known += (i == 0 ? "" : ", ") + rooflines.modes[i].key;
  if (rooflines.modes.size() > shown) known += " and " + std::to_string(rooflines.modes.size() - shown) + " more";
  throw UsageError("--baseline " + echo(*options.key) + " is no mode of " + echo(*args.get("--rooflines")) +
                   " (its modes: " + known + ")");
}

// The baseline's row and the saving against it, or why there is none.
std::string baseline_lines(const reports::TuneResult& result, const dnn::Workload& workload) {
  if (!result.baseline) return "\nno baseline: " + result.no_baseline + "; no saving to report\n";
  const auto& b = *result.baseline;
  std::string text = row_text(b.reason == reports::BaselineReason::given ? "baseline" : "MAXN", b.mode);
  char buf[320];
  std::snprintf(buf, sizeof(buf), "\nbaseline %s: %s\nsaving vs baseline: %s (%.1f%%) per %s\n", b.mode.key.c_str(),
                reports::baseline_text(b.reason), si(b.saving_J, "J").c_str(), b.saving_pct,
                workload.phase == "inference" ? "inference" : "training step");
  return text + buf;
}

// Where the chosen mode goes: a POWER_MODEL section under a free id, for the board's cores.
struct NvpmodelPlan {
  int id = 100;
  int cpu_count = 0;
  std::string cpu_count_source;  // how the count was found, for the reader of the output
  std::string conf_text;         // the board's nvpmodel.conf, when given
  std::string stanza, conf_out, command;
};

// The board's cores: one CORE_<n> per core in the conf's CPU_ONLINE parameter; else --cpu-count;
// else the most cores any fitted mode had online; else the Orin AGX 64 GB's 12, and it says so.
void set_cpu_count(NvpmodelPlan& plan, const Args& args, const power::NvpmodelConf* conf, const std::string& conf_path,
                   const reports::Rooflines& rooflines) {
  const auto given = args.integer("--cpu-count", 1, reports::kMaxCpuCount);
  const power::NvpmodelParam* online = conf != nullptr ? conf->find_param("CPU_ONLINE") : nullptr;
  int cores = 0;
  if (online != nullptr) {
    for (const auto& [arg, path] : online->paths) cores += arg.rfind("CORE_", 0) == 0 ? 1 : 0;
  }
  if (cores > 0) {
    if (given && *given != cores) {
      throw UsageError("--cpu-count " + std::to_string(*given) + " disagrees with the " + std::to_string(cores) +
                       " CPU_ONLINE cores of " + echo(conf_path));
    }
    plan.cpu_count = std::min(cores, reports::kMaxCpuCount);
    plan.cpu_count_source = "the CPU_ONLINE cores of " + conf_path;
  } else if (given) {
    plan.cpu_count = static_cast<int>(*given);
    plan.cpu_count_source = "--cpu-count";
  } else {
    for (const auto& m : rooflines.modes) plan.cpu_count = std::max(plan.cpu_count, m.cpu_online.value_or(0));
    plan.cpu_count_source = "the most any fitted mode had online; --cpu-count or --nvpmodel-conf sets it";
    if (plan.cpu_count == 0) {
      plan.cpu_count = 12;
      plan.cpu_count_source = "assumed: a Jetson AGX Orin 64 GB; --cpu-count or --nvpmodel-conf sets it";
    }
  }
}

NvpmodelPlan plan_nvpmodel(const Args& args, const reports::RooflineMode& chosen, const reports::Rooflines& rooflines) {
  NvpmodelPlan plan;
  const auto given_id = args.integer("--nvpmodel-id", 0, std::numeric_limits<int>::max());
  std::optional<power::NvpmodelConf> conf;
  const auto base = args.get("--nvpmodel-conf");
  if (base) {
    plan.conf_text = reports::read_text_file(*base);
    try {
      conf = power::parse_nvpmodel_conf(plan.conf_text);
    } catch (const std::exception& e) {
      throw reports::InputError(echo(*base) + ": " + e.what());
    }
    conf->source = echo(*base);  // names the file in the layout's errors
    if (given_id && conf->find_mode(static_cast<int>(*given_id)) != nullptr) {
      throw UsageError("--nvpmodel-id " + std::to_string(*given_id) + " is taken in " + echo(*base));
    }
  }
  if (given_id) {
    plan.id = static_cast<int>(*given_id);
  } else if (conf) {
    plan.id = 0;
    for (const auto& m : conf->modes) {
      if (m.id == std::numeric_limits<int>::max()) throw reports::InputError(echo(*base) + ": no free nvpmodel id");
      plan.id = std::max(plan.id, m.id + 1);
    }
  }
  set_cpu_count(plan, args, conf ? &*conf : nullptr, base.value_or(""), rooflines);
  // The CPU cluster PARAMs of the board's conf; without one, those of an Orin AGX, as the core count.
  const auto layout = conf ? power::cpu_layout(*conf, plan.cpu_count) : power::orin_agx_cpu_layout(plan.cpu_count);
  plan.stanza = reports::nvpmodel_stanza(chosen, plan.id, layout);
  plan.conf_out = args.get_or("--conf-out", "edgeroof-nvpmodel.conf");
  plan.command = reports::nvpmodel_command(plan.conf_out, plan.id);
  return plan;
}

std::string tune_json(const reports::TuneResult& result, const reports::CostedModes& costed,
                      const dnn::Workload& workload, const NvpmodelPlan& plan, const reports::RooflineMode& chosen,
                      const reports::Findings& findings, const reports::Calibration* calibration) {
  auto j = reports::to_json(result);
  j["findings"] = reports::to_json(findings);
  if (calibration != nullptr) j["calibration"] = reports::calibration_json(*calibration);
  if (result.chosen.modeled()) {
    const auto modes = reports::sweep_modes_argument(chosen);
    j["measure_chosen"] =
        modes ? nlohmann::json("edgeroof sweep --modes " + *modes + " --out results/") : nlohmann::json(nullptr);
  }
  j["model"] = workload.model;
  j["batch"] = workload.batch;
  j["modes_left_out"] = costed.skipped;  // lacking a ceiling the workload needs
  j["nvpmodel"] = {{"id", plan.id},
                   {"stanza", plan.stanza},
                   {"command", plan.command},
                   {"cpu_count", plan.cpu_count},
                   {"cpu_count_source", plan.cpu_count_source}};
  return json_text(j);
}

std::string csv_text(const reports::TuneResult& result) {
  Table t({"role", "key", "latency_s", "energy_J", "power_W", "source", "latency_s_lo", "latency_s_hi"});
  auto add = [&](const std::string& role, const reports::ModeCost& m) {
    const auto& ci = m.latency_ci95;
    t.add({role, m.key, std::to_string(m.latency_s), std::to_string(*m.energy_J),
           std::to_string(*m.energy_J / m.latency_s), m.source, ci ? std::to_string(ci->lo) : "",
           ci ? std::to_string(ci->hi) : ""});
  };
  add("chosen", result.chosen);
  add("fastest", result.fastest);
  if (result.baseline) add("baseline", result.baseline->mode);
  if (result.maxn) add("maxn", *result.maxn);
  for (const auto& m : result.pareto) add("pareto", m);
  return t.render(Format::csv);
}

std::string table_text(const reports::TuneResult& result, const reports::CostedModes& costed,
                       const reports::Rooflines& rooflines, const dnn::Workload& workload,
                       const reports::RooflineMode& chosen, const NvpmodelPlan& plan, bool conf_written,
                       const reports::Calibration* calibration) {
  std::string text = "model " + workload.model + ", batch " + std::to_string(workload.batch) + ": " +
                     result.constraint + ", over " + std::to_string(result.modes) +
                     " modes (predicted from the fitted rooflines" + (result.chosen.calibrated ? ", calibrated" : "") +
                     ")\n";
  if (calibration != nullptr) {
    for (const auto& n : calibration->notes) text += "calibration: " + n + "\n";
  }
  if (result.modes < costed.costs.size()) {
    text += std::to_string(costed.costs.size() - result.modes) + " mode(s) without an energy fit left out\n";
  }
  if (costed.skipped > 0) {
    text +=
        std::to_string(costed.skipped) + " mode(s) left out that lack a ceiling (first: " + costed.first_reason + ")\n";
  }
  text += "\n" + row_text("chosen", result.chosen) + row_text("fastest", result.fastest);
  for (const auto& note : {modeled_note(result, chosen), margin_note(result, rooflines)}) {
    if (!note.empty()) text += note + "\n";
  }
  text += baseline_lines(result, workload);
  text += "\nPareto front (latency, energy):\n";
  for (const auto& m : result.pareto) text += row_text(m.key == result.chosen.key ? "* pareto" : "  pareto", m);
  text += "\nnvpmodel.conf section for the chosen mode (" + std::to_string(plan.cpu_count) +
          " CPU cores: " + plan.cpu_count_source + "):\n" + plan.stanza;
  if (!chosen.gpu_hz && !chosen.emc_hz && !chosen.cpu_khz && !chosen.cpu_online) {
    text += "(the results of mode " + chosen.key + " record no power_mode.* frequencies: the section sets nothing)\n";
  }
  if (conf_written) {
    text += "\nwritten with the board's modes to " + plan.conf_out + "; apply it with:\n  " + plan.command + "\n";
  } else {
    text += "\nappend it to a copy of /etc/nvpmodel.conf (or pass --nvpmodel-conf /etc/nvpmodel.conf --conf-out " +
            plan.conf_out + "), then:\n  " + plan.command + "\n";
  }
  return text;
}

// --verify (tune_verify.hpp): its section joins the table, its object the JSON. A dry run prints
// its plan after tune's output and measures nothing.
struct Verified {
  int exit_code = 0;
  std::string note;  // why it stopped, for stderr
};

Verified verify_and_emit(const Args& args, const TuneDecision& decision, Format format, std::string text) {
  if (!args.has("--verify")) {
    emit(args, text);
    return {};
  }
  if (args.has("--dry-run")) {
    emit(args, text);
    std::cout.flush();
    (void)run_verify(args, decision);
    return {};
  }
  const auto outcome = run_verify(args, decision);
  if (outcome.exit_code == 1) throw reports::InputError(outcome.text);
  if (outcome.exit_code != 0) return {outcome.exit_code, outcome.text};
  if (format == Format::json) {
    auto doc = nlohmann::json::parse(text);
    doc["verify"] = outcome.json;
    text = json_text(doc);
  } else if (format == Format::table) {
    text += outcome.text;
  }
  emit(args, text);
  return {};
}

int run(const Args& args) {
  const Format format = format_of(args);
  if (args.has("--conf-out") && !args.has("--nvpmodel-conf"))
    throw UsageError("--conf-out needs --nvpmodel-conf (the board's /etc/nvpmodel.conf to extend)");
  check_output(args, "--out");
  check_output(args, "--conf-out");
  if (args.has("--out") && args.has("--conf-out") &&
      std::filesystem::weakly_canonical(*args.get("--out")) ==
          std::filesystem::weakly_canonical(*args.get("--conf-out")))
    throw UsageError("--out and --conf-out name the same file");
  const auto constraint = constraint_of(args);
  const auto workload = workload_of(args);
  const auto rooflines = rooflines_of(args);
  // A measured mode decides by its measurement and the model's prediction weighed together; a
  // calibration is of those figures too, so its mode costs what its benchmarks measured.
  const auto decided = reports::decision_rooflines(rooflines);
  auto options = predict_options_of(args, rooflines);
  calibrate_of(args, workload, decided, options);
  const auto costed = reports::cost_modes(workload, decided, options);
  const auto result = reports::tune(costed.costs, constraint, baseline_options_of(args, rooflines));
  const TuneDecision decision{result, constraint, rooflines, workload, options};
  check_verify(args, decision);  // before anything is written or applied
  const auto findings = reports::compute_findings(
      {workload, decided, options, costed.costs, result, load_results_paths(args.all("--results"))});
  const auto& chosen = find_mode(rooflines, result.chosen.key);
  const auto plan = plan_nvpmodel(args, chosen, rooflines);

  std::string text;
  if (format == Format::json) {
    text = tune_json(result, costed, workload, plan, chosen, findings, options.calibration.get());
  } else if (format == Format::csv) {
    text = csv_text(result);
  } else {
    text = table_text(result, costed, rooflines, workload, chosen, plan, args.has("--conf-out"),
                      options.calibration.get()) +
           "\n";
    for (const auto& line : reports::findings_lines(findings)) text += line + "\n";
  }
  if (args.has("--conf-out")) {
    const std::string& base = plan.conf_text;
    power::atomic_write(plan.conf_out, base + (base.empty() || base.back() == '\n' ? "" : "\n") + "\n" + plan.stanza);
  }
  const Verified verified = verify_and_emit(args, decision, format, text);
  if (format != Format::table) {  // stdout is data there: the notes go to stderr
    for (const auto& note : {modeled_note(result, chosen), margin_note(result, rooflines)}) {
      if (!note.empty()) std::cerr << "edgeroof tune: note: " << note << "\n";
    }
  }
  if (verified.exit_code != 0) std::cerr << "edgeroof tune: " << verified.note << "\n";
  return verified.exit_code;
}

}  // namespace

const Command& tune_command() {
  static const Command cmd = [] {
    Command c{
        "tune",
        "pick the power mode with the least energy for the latency a model needs",
        "edgeroof tune --model NAME --batch N --rooflines FILE [--max-slowdown 5% | --max-latency-ms X | "
        "--max-power-W P] [--baseline KEY]\n"
        "       edgeroof tune ... --verify [--dry-run] [--root DIR] [--bench PATH] [--verify-out DIR] [-- BENCH FLAGS]",
        "Every mode's latency and energy are predicted as by 'edgeroof predict'. The chosen mode has the\n"
        "least energy among those within --max-slowdown of the fastest mode (default 5%) or under\n"
        "--max-latency-ms; with --max-power-W it is the fastest mode whose average power stays under the\n"
        "cap. The saving is reported against --baseline KEY, else MAXN (the mode named or keyed MAXN, else\n"
        "nvpmodel id 0), else the grid equivalent of MAXN: the one mode with every knob (CPU cores, CPU,\n"
        "GPU and EMC clocks, TPCs on) at its maximum over the modes. The chosen mode is printed as an\n"
        "nvpmodel.conf POWER_MODEL section (CPU and GPU clocks pinned at the measured frequencies, EMC\n"
        "capped, with the CPU cluster PARAMs of --nvpmodel-conf, else Orin AGX's CPU_A78_<n> clusters of 4)\n"
        "with the command that applies it.\n\n"
        "Where a mode's figures carry 95% intervals (rooflines.json's *_ci95; every modeled mode has them),\n"
        "tune keeps a margin: a mode is admitted only when the upper end of its latency (or power)\n"
        "interval keeps the bound, measured from the fastest mode's predicted latency; the output says\n"
        "what the margin held back. A modeled choice (source \"modeled\") is said to be one, with the\n"
        "'edgeroof sweep --modes ...' that measures it.\n\n"
        "--verify applies the chosen, the fastest and the baseline modes on the board (each once, as sweep\n"
        "does: apply, verify, settle, restore the mode found at the end, on errors and on Ctrl-C), runs\n"
        "edgeroof-bench --models=MODEL --model-batch=B --model-phase=PHASE --benchmark_filter=^model/ in\n"
        "each, and prints predicted against measured latency and energy, the saving against the baseline\n"
        "predicted and measured, and whether the bound held when measured.\n\n"
        "The findings close the output (\"findings\" in JSON): whether the baseline is the most\n"
        "energy-efficient mode and the saving at 0%, 5% and 10% slowdown over the fastest mode; for the modes\n"
        "with a role and those with --results, the compute-bound share of the time, the energy split into\n"
        "FLOPs, bytes and static power, and Spearman's rho of FLOP/s and FLOP/J over the mode's measured\n"
        "benchmarks.\n\n"
        "--calibrate FILE|DIR costs every mode calibrated, as 'edgeroof predict --calibrate' does.",
        workload_options(),
        true,  // -- BENCH FLAGS, with --verify
        run};
    c.options.push_back(rooflines_option);
    c.options.push_back(calibrate_option);
    c.options.push_back(
        {"--results", "FILE|DIR", "measured benchmarks: the findings' rank correlations (repeatable)", true});
    c.options.push_back({"--max-slowdown", "PCT", "latency allowed above the fastest mode's (default 5%)"});
    c.options.push_back({"--max-latency-ms", "X", "latency bound in milliseconds"});
    c.options.push_back({"--max-power-W", "P", "average power cap in watts: the fastest mode under it"});
    c.options.push_back({"--nvpmodel-conf", "FILE", "the board's nvpmodel.conf: the new mode gets a free id"});
    c.options.push_back({"--conf-out", "FILE", "write FILE = --nvpmodel-conf plus the new mode (atomically)"});
    c.options.push_back({"--nvpmodel-id", "N", "id of the new mode (default: first free, or 100)"});
    c.options.push_back({"--cpu-count", "N",
                         "CPU cores of the board, 1 to 1024 (default: the CPU_ONLINE cores of --nvpmodel-conf, "
                         "else the most any mode had online)"});
    c.options.push_back(
        {"--baseline", "KEY", "the mode the saving is measured against (default: MAXN, else its grid equivalent)"});
    for (auto& o : verify_options()) c.options.push_back(std::move(o));
    c.options.push_back(format_option);
    c.options.push_back(output_option);
    return c;
  }();
  return cmd;
}

}  // namespace edgeroof::cli
