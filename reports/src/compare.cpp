#include "edgeroof/reports/compare.hpp"

#include "edgeroof/reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <regex>

namespace edgeroof::reports {

namespace {

struct Metric {
  const char* name;
  bool lower_is_better;
  bool is_speed;  // verdict faster/slower; otherwise better/worse
  bool gates;
};

// real_time is what every edgeroof benchmark measures (UseRealTime or CUDA events); cpu_time is
// the main thread's CPU time, shown as compare.py shows it but too loose for multi-threaded and
// GPU work to fail a gate. power_W alone says nothing good or bad: a faster run may draw more.
constexpr Metric metrics[] = {
    {"real_time", true, true, true}, {"cpu_time", true, true, false}, {"FLOP/s", false, true, true},
    {"B/s", false, true, true},      {"energy_J", true, false, true}, {"power_W", true, false, false},
};

// Everything one file holds about one benchmark name.
struct Series {
  std::vector<const BenchmarkRecord*> runs;  // plain repetitions that succeeded
  const BenchmarkRecord* mean = nullptr;     // the "mean" aggregate, for files without repetitions
  const BenchmarkRecord* failed = nullptr;   // a repetition that errored or was skipped

  [[nodiscard]] bool usable() const { return !runs.empty() || mean != nullptr; }

  // The metric of each repetition (or the mean aggregate alone); nullopt when any lacks it.
  [[nodiscard]] std::optional<std::vector<double>> values(const std::string& metric) const {
    std::vector<const BenchmarkRecord*> from = runs;
    if (from.empty() && mean != nullptr) from.push_back(mean);
    std::vector<double> out;
    for (const auto* r : from) {
      if (metric == "real_time") {
        out.push_back(r->real_time_s);
      } else if (metric == "cpu_time") {
        out.push_back(r->cpu_time_s);
      } else if (const auto v = r->counter(metric)) {
        out.push_back(*v);
      } else {
        return std::nullopt;
      }
    }
    return out;
  }
};

struct Indexed {
  std::vector<std::string> order;  // names in order of first appearance
  std::map<std::string, Series> by_name;
};

Indexed index(const ResultsFile& file, const std::optional<std::regex>& filter) {
  Indexed out;
  for (const auto& b : file.benchmarks) {
    if (filter && !std::regex_search(b.run_name, *filter)) continue;
    auto [it, inserted] = out.by_name.try_emplace(b.run_name);
    if (inserted) out.order.push_back(b.run_name);
    Series& s = it->second;
    if (b.error) {
      if (s.failed == nullptr) s.failed = &b;
    } else if (b.run_type == "aggregate") {
      if (b.aggregate_name == "mean") s.mean = &b;
    } else {
      s.runs.push_back(&b);
    }
  }
  return out;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

Verdict verdict_of(const Metric& m, double change, const std::optional<double>& pvalue, const CompareOptions& options) {
  if (!(std::fabs(change) > options.threshold)) return Verdict::same;
  if (pvalue && !(*pvalue < options.alpha)) return Verdict::same;
  const bool worse = m.lower_is_better ? change > 0 : change < 0;
  if (m.is_speed) return worse ? Verdict::slower : Verdict::faster;
  return worse ? Verdict::worse : Verdict::better;
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 3) out += ", ... (" + std::to_string(names.size() - 3) + " more)";
  return out;
}

std::string failure_of(const Series& s) {
  return s.failed->error_message.empty() ? std::string("no message") : s.failed->error_message;
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
  case Verdict::same:
    return "same";
  case Verdict::faster:
    return "faster";
  case Verdict::slower:
    return "slower";
  case Verdict::better:
    return "better";
  case Verdict::worse:
    return "worse";
  }
  return "same";
}

double relative_change(double old_value, double new_value) {
  if (old_value == 0.0 && new_value == 0.0) return 0.0;
  if (old_value == 0.0) return (new_value - old_value) / ((old_value + new_value) / 2.0);
  return (new_value - old_value) / std::fabs(old_value);
}

Comparison compare_results(const ResultsFile& old_file, const ResultsFile& new_file, const CompareOptions& options) {
  std::optional<std::regex> filter;
  if (!options.filter.empty()) {
    try {
      filter.emplace(options.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw InputError("--filter '" + options.filter + "' is not a regular expression (" + e.what() + ")");
    }
  }
  const Indexed old_index = index(old_file, filter);
  const Indexed new_index = index(new_file, filter);

  Comparison out;
  std::vector<std::string> untested, few;
  std::map<std::string, std::vector<std::string>> one_sided_metric;
  for (const auto& name : old_index.order) {
    const Series& o = old_index.by_name.at(name);
    const auto found = new_index.by_name.find(name);
    if (found == new_index.by_name.end()) {
      if (o.usable()) out.unpaired.push_back({name, "old", "only in old", false});
      continue;
    }
    const Series& n = found->second;
    if (!o.usable() && !n.usable()) {
      out.unpaired.push_back({name, "neither", "failed in old and new: " + failure_of(n), false});
      continue;
    }
    if (!n.usable()) {
      // It ran before and fails now (a failed result check, a skipped device): a regression.
      out.unpaired.push_back({name, "old", "failed in new: " + failure_of(n), true});
      continue;
    }
    if (!o.usable()) {
      out.unpaired.push_back({name, "new", "failed in old: " + failure_of(o), false});
      continue;
    }
    bool counted = false;
    for (const Metric& m : metrics) {
      const auto ov = o.values(m.name);
      const auto nv = n.values(m.name);
      if (!ov || !nv) {
        if (ov.has_value() != nv.has_value())
          one_sided_metric[std::string(m.name) + (ov ? " only in old" : " only in new")].push_back(name);
        continue;
      }
      MetricComparison row;
      row.name = name;
      row.metric = m.name;
      row.old_value = mean(*ov);
      row.new_value = mean(*nv);
      row.change = relative_change(row.old_value, row.new_value);
      row.old_repetitions = ov->size();
      row.new_repetitions = nv->size();
      const bool testable = std::min(ov->size(), nv->size()) >= min_repetitions_for_test;
      if (testable) row.pvalue = mann_whitney_u(*ov, *nv).pvalue;
      if (!counted) {
        counted = true;
        if (!testable)
          untested.push_back(name);
        else if (std::min(ov->size(), nv->size()) < recommended_repetitions)
          few.push_back(name);
      }
      row.verdict = verdict_of(m, row.change, row.pvalue, options);
      row.gates = m.gates;
      row.regression = m.gates && row.pvalue && (row.verdict == Verdict::slower || row.verdict == Verdict::worse);
      if (row.regression) ++out.regressions;
      out.rows.push_back(std::move(row));
    }
  }
  for (const auto& name : new_index.order) {
    if (old_index.by_name.count(name) == 0 && new_index.by_name.at(name).usable()) {
      out.unpaired.push_back({name, "new", "only in new", false});
    }
  }
  for (const auto& u : out.unpaired) {
    if (u.regression) ++out.regressions;
  }
  if (out.rows.empty() && out.regressions == 0) {
    throw InputError("no benchmark in common between " + old_file.path + " and " + new_file.path +
                     (filter ? " matching --filter '" + options.filter + "'" : std::string()));
  }

  if (!untested.empty()) {
    out.warnings.push_back(std::to_string(untested.size()) + " benchmark(s) with fewer than " +
                           std::to_string(min_repetitions_for_test) +
                           " repetitions on a side: no U test, so their changes cannot fail (record with "
                           "--benchmark_repetitions=" +
                           std::to_string(recommended_repetitions) + "): " + name_list(untested));
  }
  if (!few.empty()) {
    out.warnings.push_back(std::to_string(few.size()) + " benchmark(s) with fewer than " +
                           std::to_string(recommended_repetitions) +
                           " repetitions on a side: the U test is unreliable: " + name_list(few));
  }
  for (const auto& [what, names] : one_sided_metric)
    out.warnings.push_back(what + ", not compared: " + name_list(names));
  const auto old_device = old_file.context_value("device.name");
  const auto new_device = new_file.context_value("device.name");
  if (old_device && new_device && *old_device != *new_device) {
    out.warnings.push_back("the runs come from different devices: '" + *old_device + "' and '" + *new_device + "'");
  }
  return out;
}

nlohmann::json to_json(const Comparison& comparison) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : comparison.rows) {
    rows.push_back({{"name", r.name},
                    {"metric", r.metric},
                    {"old", r.old_value},
                    {"new", r.new_value},
                    {"change", r.change},
                    {"pvalue", r.pvalue ? nlohmann::json(*r.pvalue) : nlohmann::json(nullptr)},
                    {"repetitions", {r.old_repetitions, r.new_repetitions}},
                    {"verdict", to_string(r.verdict)},
                    {"gates", r.gates}});
  }
  nlohmann::json unpaired = nlohmann::json::array();
  for (const auto& u : comparison.unpaired) {
    unpaired.push_back({{"name", u.name}, {"present_in", u.side}, {"reason", u.reason}, {"regression", u.regression}});
  }
  return {{"comparisons", rows}, {"unpaired", unpaired}, {"regressions", comparison.regressions}};
}

}  // namespace edgeroof::reports
