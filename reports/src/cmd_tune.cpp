#include "commands.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/tune.hpp"
#include "model_args.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

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

std::string row_text(const std::string& what, const reports::ModeCost& m) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%-8s %-44s %12s %12s %10s\n", what.c_str(), m.key.c_str(),
                si(m.latency_s, "s").c_str(), si(*m.energy_J, "J").c_str(), si(*m.energy_J / m.latency_s, "W").c_str());
  return buf;
}

int run(const Args& args) {
  const Format format = format_of(args);
  const auto workload = workload_of(args);
  const auto rooflines = rooflines_of(args);
  const auto costed = reports::cost_modes(workload, rooflines, predict_options_of(args, rooflines));
  const auto& costs = costed.costs;
  const auto result = reports::tune(costs, constraint_of(args));
  const auto& chosen = find_mode(rooflines, result.chosen.key);

  // The stanza goes into a copy of the board's nvpmodel.conf under a free id.
  int id = static_cast<int>(args.integer("--nvpmodel-id").value_or(-1));
  std::string conf_text;
  if (const auto base = args.get("--nvpmodel-conf")) {
    conf_text = reports::read_text_file(*base);
    const auto conf = power::parse_nvpmodel_conf(conf_text);
    if (id < 0) {
      id = 0;
      for (const auto& m : conf.modes) id = std::max(id, m.id + 1);
    } else if (conf.find_mode(id) != nullptr) {
      throw UsageError("--nvpmodel-id " + std::to_string(id) + " is taken in " + *base);
    }
  }
  if (id < 0) id = 100;
  const int cpu_count = static_cast<int>(args.integer("--cpu-count").value_or(12));
  const std::string stanza = reports::nvpmodel_stanza(chosen, id, cpu_count);
  const std::string conf_out = args.get_or("--conf-out", "edgeroof-nvpmodel.conf");
  if (args.has("--conf-out")) {
    if (!args.has("--nvpmodel-conf"))
      throw UsageError("--conf-out needs --nvpmodel-conf (the board's /etc/nvpmodel.conf to extend)");
    power::atomic_write(conf_out,
                        conf_text + (conf_text.empty() || conf_text.back() == '\n' ? "" : "\n") + "\n" + stanza);
  }
  const std::string command = reports::nvpmodel_command(conf_out, id);

  std::string text;
  if (format == Format::json) {
    auto j = reports::to_json(result);
    j["model"] = workload.model;
    j["batch"] = workload.batch;
    j["modes_left_out"] = costed.skipped;  // lacking a ceiling the workload needs
    j["nvpmodel"] = {{"id", id}, {"stanza", stanza}, {"command", command}};
    text = j.dump(2) + "\n";
  } else if (format == Format::csv) {
    Table t({"role", "key", "latency_s", "energy_J", "power_W"});
    auto add = [&](const std::string& role, const reports::ModeCost& m) {
      t.add({role, m.key, std::to_string(m.latency_s), std::to_string(*m.energy_J),
             std::to_string(*m.energy_J / m.latency_s)});
    };
    add("chosen", result.chosen);
    add("fastest", result.fastest);
    if (result.maxn) add("maxn", *result.maxn);
    for (const auto& m : result.pareto) add("pareto", m);
    text = t.render(Format::csv);
  } else {
    text = "model " + workload.model + ", batch " + std::to_string(workload.batch) + ": " + result.constraint +
           ", over " + std::to_string(result.modes) + " modes (predicted from the fitted rooflines)\n";
    if (result.modes < costs.size()) {
      text += std::to_string(costs.size() - result.modes) + " mode(s) without an energy fit left out\n";
    }
    if (costed.skipped > 0) {
      text += std::to_string(costed.skipped) + " mode(s) left out that lack a ceiling (first: " + costed.first_reason +
              ")\n";
    }
    text += "\n";
    text += row_text("chosen", result.chosen) + row_text("fastest", result.fastest);
    if (result.maxn) {
      text += row_text("MAXN", *result.maxn);
      char buf[160];
      std::snprintf(buf, sizeof(buf), "\nsaving vs MAXN: %s (%.1f%%) per %s\n",
                    si(*result.saving_vs_maxn_J, "J").c_str(), *result.saving_vs_maxn_pct,
                    workload.phase == "inference" ? "inference" : "training step");
      text += buf;
    } else {
      text += "\nno MAXN mode (name or key MAXN, or nvpmodel id 0) among the modes: no saving to report\n";
    }
    text += "\nPareto front (latency, energy):\n";
    for (const auto& m : result.pareto) text += row_text(m.key == result.chosen.key ? "* pareto" : "  pareto", m);
    text += "\nnvpmodel.conf section for the chosen mode:\n" + stanza;
    if (!chosen.gpu_hz && !chosen.emc_hz && !chosen.cpu_khz && !chosen.cpu_online) {
      text += "(the results of mode " + chosen.key + " record no power_mode.* frequencies: the section sets nothing)\n";
    }
    if (args.has("--conf-out")) {
      text += "\nwritten with the board's modes to " + conf_out + "; apply it with:\n  " + command + "\n";
    } else {
      text += "\nappend it to a copy of /etc/nvpmodel.conf (or pass --nvpmodel-conf /etc/nvpmodel.conf --conf-out " +
              conf_out + "), then:\n  " + command + "\n";
    }
  }
  emit(args, text);
  return 0;
}

}  // namespace

const Command& tune_command() {
  static const Command cmd = [] {
    Command c{"tune",
              "pick the power mode with the least energy for the latency a model needs",
              "edgeroof tune --model NAME --batch N --rooflines FILE [--max-slowdown 5% | --max-latency-ms X | "
              "--max-power-W P]",
              "Every mode's latency and energy are predicted as by 'edgeroof predict'. The chosen mode has the\n"
              "least energy among those within --max-slowdown of the fastest mode (default 5%) or under\n"
              "--max-latency-ms; with --max-power-W it is the fastest mode whose average power stays under the\n"
              "cap. MAXN is the mode named or keyed MAXN, else nvpmodel id 0. The chosen mode is printed as an\n"
              "nvpmodel.conf POWER_MODEL section (CPU and GPU clocks pinned at the measured frequencies, EMC\n"
              "capped, CPU clusters of 4 as on Orin AGX) with the command that applies it.",
              workload_options(),
              false,
              run};
    c.options.push_back(rooflines_option);
    c.options.push_back({"--max-slowdown", "PCT", "latency allowed above the fastest mode's (default 5%)"});
    c.options.push_back({"--max-latency-ms", "X", "latency bound in milliseconds"});
    c.options.push_back({"--max-power-W", "P", "average power cap in watts: the fastest mode under it"});
    c.options.push_back({"--nvpmodel-conf", "FILE", "the board's nvpmodel.conf: the new mode gets a free id"});
    c.options.push_back({"--conf-out", "FILE", "write FILE = --nvpmodel-conf plus the new mode (atomically)"});
    c.options.push_back({"--nvpmodel-id", "N", "id of the new mode (default: first free, or 100)"});
    c.options.push_back({"--cpu-count", "N", "CPU cores of the board (default 12, Orin AGX 64 GB)"});
    c.options.push_back(format_option);
    c.options.push_back(output_option);
    return c;
  }();
  return cmd;
}

}  // namespace edgeroof::cli
