#include "commands.hpp"
#include "edgeroof/reports/compare.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

namespace edgeroof::cli {
namespace {

// Times in the unit that keeps 1 to 3 digits before the point, as Google Benchmark prints them.
std::string seconds_text(double s) {
  static const std::pair<double, const char*> units[] = {{1.0, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}};
  for (const auto& [scale, unit] : units) {
    if (std::fabs(s) >= scale || scale == 1e-9) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.4g %s", s / scale, unit);
      return buf;
    }
  }
  return "0 s";
}

std::string fixed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string value_text(const reports::MetricComparison& r, double v) {
  const std::string& metric = r.metric;
  if (r.percentage) return fixed("%.4g%%", 100.0 * v);
  if (metric == "real_time" || metric == "cpu_time") return seconds_text(v);
  if (metric == "energy_J") return si(v, "J", 4);
  if (metric == "power_W") return si(v, "W", 4);
  return si(v, metric, 4);  // FLOP/s, B/s
}

// "throttled in new", "median aggregate in old", ...: what a reader must know to trust a row.
std::string note_of(const reports::MetricComparison& r) {
  std::string out;
  auto add = [&](const std::string& text) { out += (out.empty() ? "" : "; ") + text; };
  if (r.old_throttled || r.new_throttled)
    add(std::string("throttled in ") + (r.old_throttled && r.new_throttled ? "both" : r.old_throttled ? "old" : "new"));
  const std::string statistic = r.statistic.empty() ? "unnamed" : r.statistic;
  if (r.old_from_aggregate || r.new_from_aggregate) {
    add(statistic + " aggregate" +
        (r.old_from_aggregate && r.new_from_aggregate ? "s"
         : r.old_from_aggregate                       ? " in old"
                                                      : " in new"));
  } else if (r.statistic != "mean") {
    add(statistic + " of repetitions");
  }
  return out;
}

std::string gate_of(const reports::MetricComparison& r) {
  if (r.regression) return r.throttled() ? "FAIL (throttled)" : "FAIL";
  return r.gates ? "" : "info";
}

// For people: units and percentages.
std::string render_table(const reports::Comparison& c) {
  Table t({"benchmark", "metric", "old", "new", "change", "p-value", "reps", "verdict", "gate", "note"});
  for (const auto& r : c.rows) {
    t.add({r.name, r.metric, value_text(r, r.old_value), value_text(r, r.new_value), fixed("%+.2f%%", 100.0 * r.change),
           r.pvalue ? fixed("%.4f", *r.pvalue) : "-",
           std::to_string(r.old_repetitions) + "/" + std::to_string(r.new_repetitions), reports::to_string(r.verdict),
           gate_of(r), note_of(r)});
  }
  for (const auto& u : c.unpaired)
    t.add({u.name, "-", "-", "-", "-", "-", "-", u.reason, u.regression ? "FAIL" : "", ""});
  return t.render(Format::table);
}

// For programs: the JSON keys as columns, plain numbers (times in seconds, change as a fraction).
std::string render_csv(const reports::Comparison& c) {
  Table t({"name", "metric", "old", "new", "change", "pvalue", "n_old", "n_new", "verdict", "gates", "regression",
           "statistic", "throttled"});
  for (const auto& r : c.rows) {
    t.add({r.name, r.metric, fixed("%.17g", r.old_value), fixed("%.17g", r.new_value), fixed("%.17g", r.change),
           r.pvalue ? fixed("%.17g", *r.pvalue) : "", std::to_string(r.old_repetitions),
           std::to_string(r.new_repetitions), reports::to_string(r.verdict), r.gates ? "true" : "false",
           r.regression ? "true" : "false", r.statistic, r.throttled() ? "true" : "false"});
  }
  for (const auto& u : c.unpaired) {
    t.add({u.name, "", "", "", "", "", "", "", u.reason, "true", u.regression ? "true" : "false", "", "false"});
  }
  return t.render(Format::csv);
}

// "old: base.json (Jetson AGX Orin, L4T R36.4.3, mode MAXN)": what a JetPack-to-JetPack check needs.
std::string describe(const char* role, const reports::ResultsFile& f) {
  std::string about;
  auto add = [&](const std::string& prefix, const std::string& key) {
    if (const auto v = f.context_value(key)) about += (about.empty() ? "" : ", ") + prefix + *v;
  };
  add("", "device.name");
  add("L4T ", "l4t.release");
  add("mode ", "power_mode.name");
  return std::string(role) + ": " + reports::excerpt(f.path) + (about.empty() ? "" : " (" + about + ")") + "\n";
}

// Text inside an XML attribute or element: benchmark names are data and may hold any of these.
std::string xml_escaped(const std::string& text) {
  std::string out;
  static const std::pair<char, const char*> entities[] = {
      {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&apos;"}};
  for (const char ch : text) {
    const char* entity = nullptr;
    for (const auto& e : entities)
      if (e.first == ch) entity = e.second;
    if (entity)
      out += entity;
    else
      out += ch;
  }
  return out;
}

// The unit CDash shows a gating figure in, and the factor from the row's SI value to it.
std::optional<std::pair<const char*, double>> chart_unit(const std::string& metric) {
  if (metric == "B/s") return std::make_pair("GB/s", 1e-9);
  if (metric == "FLOP/s") return std::make_pair("GFLOP/s", 1e-9);
  if (metric == "energy_J") return std::make_pair("J", 1.0);
  if (metric == "real_time") return std::make_pair("s", 1.0);
  return std::nullopt;  // cpu_time and power_W never gate
}

std::string measurement(const std::string& name, double value) {
  return "<CTestMeasurement type=\"numeric/double\" name=\"" + xml_escaped(name) + "\">" + fixed("%.10g", value) +
         "</CTestMeasurement>\n";
}

// CTest keeps these lines of a test's output as named measurements, which CDash charts from run
// to run: "<benchmark> <unit> current|baseline|ratio" (ratio = current / baseline). A figure that is
// not finite is left out rather than charted as a made-up number.
std::string ctest_measurements(const reports::Comparison& c) {
  std::string out;
  for (const auto& r : c.rows) {
    const auto unit = chart_unit(r.metric);
    if (!unit || r.percentage) continue;
    const std::string stem = r.name + " " + unit->first + " ";
    const double current = r.new_value * unit->second;
    const double baseline = r.old_value * unit->second;
    if (std::isfinite(current)) out += measurement(stem + "current", current);
    if (std::isfinite(baseline)) out += measurement(stem + "baseline", baseline);
    if (r.old_value != 0.0 && std::isfinite(r.new_value / r.old_value))
      out += measurement(stem + "ratio", r.new_value / r.old_value);
  }
  return out;
}

std::string summary(const reports::Comparison& c, const reports::CompareOptions& o) {
  const std::string criteria =
      "a change beyond " + fixed("%g%%", 100.0 * o.threshold) + " with p < " + fixed("%g", o.alpha);
  if (c.regressions == 0) return "no regression (" + criteria + ")\n";
  const std::string throttled =
      c.throttled_regressions == 0
          ? std::string()
          : "; " + std::to_string(c.throttled_regressions) +
                " of them on throttled runs (clocks below the mode's): measure again before blaming the code";
  return std::to_string(c.regressions) + " regression(s): " + criteria +
         " in the bad direction, or a benchmark that fails now" + throttled + "\n";
}

int run(const Args& args) {
  if (args.positional.size() != 2) throw UsageError("name two results files: OLD.json NEW.json");
  const Format format = format_of(args);
  const bool measurements = args.has("--ctest-measurements");
  if (measurements && format != Format::table && !args.has("--out"))
    throw UsageError(
        "--ctest-measurements goes to standard output: with --format csv or json, write those with -o FILE");
  reports::CompareOptions options;
  options.threshold = args.percent("--threshold").value_or(options.threshold);
  options.alpha = args.number("--alpha").value_or(options.alpha);
  if (!(options.alpha > 0.0 && options.alpha <= 1.0)) throw UsageError("--alpha takes a level in (0, 1], such as 0.05");
  options.filter = args.get_or("--filter", "");
  if (!options.filter.empty()) {
    try {
      (void)reports::NameFilter(options.filter);
    } catch (const reports::InputError& e) {
      throw UsageError(e.what());  // a pattern the user typed: a usage error, exit 2
    }
  }

  const auto old_file = reports::load_results(args.positional[0]);
  const auto new_file = reports::load_results(args.positional[1]);
  const auto comparison = reports::compare_results(old_file, new_file, options);
  for (const auto& w : comparison.warnings) std::fprintf(stderr, "edgeroof compare: warning: %s\n", w.c_str());

  if (format == Format::json) {
    emit(args, reports::to_json(comparison).dump(2) + "\n");
    std::fputs(summary(comparison, options).c_str(), stderr);
  } else if (format == Format::csv) {
    emit(args, render_csv(comparison));
    std::fputs(summary(comparison, options).c_str(), stderr);
  } else {
    emit(args, describe("old", old_file) + describe("new", new_file) + "\n" + render_table(comparison) + "\n" +
                   summary(comparison, options));
  }
  if (measurements) std::fputs(ctest_measurements(comparison).c_str(), stdout);
  return comparison.regressions > 0 ? 1 : 0;
}

}  // namespace

const Command& compare_command() {
  static const Command cmd{
      "compare",
      "compare two benchmark runs by name; exit 1 on a significant regression (a CTest gate)",
      "edgeroof compare OLD.json NEW.json [--threshold 5%] [--alpha 0.05] [--filter REGEX] [--format table|csv|json] "
      "[--ctest-measurements]",
      "Benchmarks are paired by run name. Each metric present in both files (real_time, cpu_time, FLOP/s,\n"
      "B/s, energy_J, power_W) is compared on the mean of its repetitions: change = (new - old) / |old|,\n"
      "as Google Benchmark's tools/compare.py computes it. A two-sided Mann-Whitney U test over the\n"
      "repetitions (SciPy's: exact when a side has at most 8 and there are no ties, otherwise normal with\n"
      "tie and continuity corrections) gives the p-value; it needs 2 repetitions a side and wants 9.\n"
      "A side with aggregates only is compared by its mean (else median, else another aggregate both\n"
      "have, for information) with no p-value; BigO/RMS rows are not compared.\n"
      "Exit status 1 when a change beyond --threshold is significant (p < --alpha) and bad: slower,\n"
      "lower FLOP/s or B/s, more energy_J; or when a benchmark that ran in OLD fails in NEW.\n"
      "A run with the counter throttled = 1 on either side is marked; its regressions still fail, as\n"
      "'FAIL (throttled)'. cpu_time and power_W are shown but never fail. A benchmark found in one\n"
      "file only is listed. Exit status 0 otherwise; bad input prints one line and exits 1 (2 for a\n"
      "wrong command line, such as a --filter that is not a regular expression).\n"
      "--ctest-measurements prints, after the table, one <CTestMeasurement type=\"numeric/double\"> line per\n"
      "figure, which CTest keeps with the test and CDash charts: name '<benchmark> <unit> current|baseline|ratio'\n"
      "(XML-escaped) for real_time (s), B/s (GB/s), FLOP/s (GFLOP/s) and energy_J (J), value %.10g,\n"
      "ratio = current / baseline; a figure that is not finite is left out.",
      {{"--threshold", "PERCENT", "smallest relative change that counts (default 5%)"},
       {"--alpha", "P", "significance level of the U test (default 0.05)"},
       {"--filter", "REGEX", "compare only benchmarks whose name matches (POSIX extended regex, searched)"},
       {"--ctest-measurements", "",
        "also print <CTestMeasurement> lines for CDash: current, baseline, ratio (see below)"},
       format_option,
       output_option},
      false,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
