#include "edgeroof/reports/compare.hpp"

#include "edgeroof/reports/stats.hpp"

#include <regex.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>

namespace edgeroof::reports {

namespace {

// ---- the filter ----

// An upper bound on the states regcomp builds: {m,n} copies what it repeats n times, so nested
// counts multiply ((a{255}){255}){255} into 16 million states, minutes of compiling.
std::size_t automaton_size(const std::string& p) {
  struct Group {
    std::size_t total = 0;
    std::size_t last = 0;  // the size of the item a {m,n} would repeat
  };
  std::vector<Group> stack(1);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '(') {
      stack.emplace_back();
    } else if (c == ')' && stack.size() > 1) {
      const std::size_t inner = stack.back().total + 1;
      stack.pop_back();
      stack.back().total += inner;
      stack.back().last = inner;
    } else if (c == '{') {
      std::size_t j = i + 1, bound = 0;
      for (; j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ','); ++j) {
        if (p[j] == ',') continue;
        bound = std::min<std::size_t>(bound * 10 + static_cast<std::size_t>(p[j] - '0'), 1000000);
      }
      const std::size_t copies = std::max<std::size_t>(bound, 1);
      Group& g = stack.back();
      g.total += g.last * (copies - 1);
      g.last *= copies;
      i = j;
    } else {
      if (c == '\\') ++i;
      if (c == '[') {  // a bracket expression is one state; ']' right after '[' or '[^' is literal
        std::size_t j = i + 1;
        if (j < p.size() && p[j] == '^') ++j;
        if (j < p.size() && p[j] == ']') ++j;
        while (j < p.size() && p[j] != ']') ++j;
        i = j;
      }
      stack.back().total += 1;
      stack.back().last = 1;
    }
    if (stack.back().total > 100000) return 100001;  // g may be gone: the stack changed
  }
  std::size_t total = 0;
  for (const auto& g : stack) total += g.total;
  return total;
}

bool has_back_reference(const std::string& p) {
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] != '\\') continue;
    if (p[i + 1] >= '1' && p[i + 1] <= '9') return true;
    ++i;
  }
  return false;
}

}  // namespace

NameFilter::NameFilter(const std::string& pattern) {
  const std::string shown = "--filter '" + excerpt(pattern, 40) + "'";
  if (pattern.size() > max_filter_chars) {
    throw InputError("--filter takes a pattern of at most " + std::to_string(max_filter_chars) + " characters, not " +
                     std::to_string(pattern.size()) + " ('" + excerpt(pattern, 40) + "')");
  }
  if (has_back_reference(pattern)) throw InputError(shown + ": back-references (\\1 ...) are not supported");
  if (automaton_size(pattern) > 100000)
    throw InputError(shown + ": its counted repetitions ({m,n}) nest too deep to compile");
  auto* re = new regex_t;
  const int rc = ::regcomp(re, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[256];
    ::regerror(rc, re, why, sizeof(why));
    delete re;
    throw InputError(shown + " is not a POSIX extended regular expression (" + why + ")");
  }
  m_regex = std::shared_ptr<void>(re, [](void* r) {
    ::regfree(static_cast<regex_t*>(r));
    delete static_cast<regex_t*>(r);
  });
}

bool NameFilter::matches(const std::string& name) const {
  return ::regexec(static_cast<const regex_t*>(m_regex.get()), name.c_str(), 0, nullptr, 0) == 0;
}

namespace {

// ---- what each file holds about one name ----

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

struct Series {
  std::vector<const BenchmarkRecord*> runs;        // measured plain repetitions that succeeded
  std::vector<const BenchmarkRecord*> aggregates;  // measured aggregates, the first of each name
  const BenchmarkRecord* failed = nullptr;         // the first that errored or was skipped
  bool throttled = false;

  [[nodiscard]] bool measured() const { return !runs.empty() || !aggregates.empty(); }
  [[nodiscard]] const BenchmarkRecord* aggregate(const std::string& name) const {
    for (const auto* a : aggregates) {
      if (a->aggregate_name == name) return a;
    }
    return nullptr;
  }
  [[nodiscard]] bool has(const std::string& statistic) const { return !runs.empty() || aggregate(statistic); }
};

struct Indexed {
  std::vector<std::string> order;  // names in order of first appearance
  std::map<std::string, Series> by_name;
  std::size_t complexity_rows = 0;
};

Indexed index(const ResultsFile& file, const std::optional<NameFilter>& filter) {
  Indexed out;
  for (const auto& b : file.benchmarks) {
    if (filter && !filter->matches(b.run_name)) continue;
    if (b.complexity) {
      ++out.complexity_rows;
      continue;
    }
    auto [it, inserted] = out.by_name.try_emplace(b.run_name);
    if (inserted) out.order.push_back(b.run_name);
    Series& s = it->second;
    s.throttled = s.throttled || b.throttled();
    if (b.error) {
      if (s.failed == nullptr) s.failed = &b;
    } else if (!b.measured) {
      continue;
    } else if (b.is_aggregate()) {
      if (s.aggregate(b.aggregate_name) == nullptr) s.aggregates.push_back(&b);
    } else {
      s.runs.push_back(&b);
    }
  }
  return out;
}

// The statistic two series are compared by, and the aggregate row each side takes it from
// (nullptr: from its repetitions).
struct Basis {
  std::string statistic;
  const BenchmarkRecord* old_row = nullptr;
  const BenchmarkRecord* new_row = nullptr;
  [[nodiscard]] bool central() const { return statistic == "mean" || statistic == "median"; }
};

std::optional<Basis> basis_of(const Series& o, const Series& n) {
  if (!o.runs.empty() && !n.runs.empty()) return Basis{"mean"};
  for (const char* statistic : {"mean", "median"}) {
    if (o.has(statistic) && n.has(statistic)) {
      return Basis{statistic, o.runs.empty() ? o.aggregate(statistic) : nullptr,
                   n.runs.empty() ? n.aggregate(statistic) : nullptr};
    }
  }
  if (!o.runs.empty() || !n.runs.empty()) return std::nullopt;  // repetitions against spreads
  for (const auto* a : o.aggregates) {
    if (const auto* b = n.aggregate(a->aggregate_name)) return Basis{a->aggregate_name, a, b};
  }
  return std::nullopt;
}

std::optional<double> metric_of(const BenchmarkRecord& r, const std::string& metric) {
  if (metric == "real_time") return r.real_time_s;
  if (metric == "cpu_time") return r.has_cpu_time ? std::optional<double>(r.cpu_time_s) : std::nullopt;
  return r.counter(metric);
}

// The metric of each repetition, or of the aggregate row alone; nullopt when any lacks it.
std::optional<std::vector<double>> values_of(const Series& s, const BenchmarkRecord* row, const std::string& metric) {
  std::vector<double> out;
  for (const auto* r : row != nullptr ? std::vector<const BenchmarkRecord*>{row} : s.runs) {
    const auto v = metric_of(*r, metric);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

double figure(std::vector<double> values, const std::string& statistic) {
  if (statistic == "median") return median(std::move(values));
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::size_t repetitions_behind(const Series& s, const BenchmarkRecord* row) {
  if (row == nullptr) return s.runs.size();
  return static_cast<std::size_t>(std::max(1, row->repetitions.value_or(1)));
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
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) out += (i ? ", " : "") + excerpt(names[i], 80);
  if (names.size() > 3) out += ", ... (" + std::to_string(names.size() - 3) + " more)";
  return out;
}

std::string failure_of(const BenchmarkRecord& r) {
  return excerpt(r.error_message.empty() ? std::string("no message") : r.error_message, 200);
}

std::string what_it_has(const Series& s) {
  if (!s.runs.empty()) return std::to_string(s.runs.size()) + " repetition(s)";
  std::string out = "aggregates";
  for (std::size_t i = 0; i < s.aggregates.size(); ++i)
    out += (i ? ", " : " ") + (s.aggregates[i]->aggregate_name.empty() ? "(unnamed)" : s.aggregates[i]->aggregate_name);
  return out;
}

// Why a name both files hold gives no row; nullopt when it gives rows or is no benchmark at all.
std::optional<Unpaired> unpaired_of(const std::string& name, const Series& o, const Series& n) {
  const auto failed = [](const BenchmarkRecord& r) { return std::string(r.skipped ? "skipped" : "failed"); };
  if (!o.measured() && !n.measured()) {
    if (o.failed && n.failed)
      return Unpaired{name, "neither",
                      failed(*o.failed) + " in old and " + failed(*n.failed) + " in new: " + failure_of(*n.failed),
                      false};
    if (o.failed) return Unpaired{name, "neither", failed(*o.failed) + " in old, no times in new", false};
    if (n.failed) return Unpaired{name, "neither", "no times in old, " + failed(*n.failed) + " in new", false};
    return std::nullopt;  // rows without times on both sides: nothing to say
  }
  // It ran before and fails now (a failed result check, a skipped device): a regression.
  if (!n.measured())
    return n.failed ? Unpaired{name, "old", failed(*n.failed) + " in new: " + failure_of(*n.failed), true}
                    : Unpaired{name, "old", "no times in new", false};
  if (!o.measured())
    return Unpaired{name, "new", o.failed ? failed(*o.failed) + " in old: " + failure_of(*o.failed) : "no times in old",
                    false};
  if (!basis_of(o, n))
    return Unpaired{name, "both", "no statistic in common (old: " + what_it_has(o) + "; new: " + what_it_has(n) + ")",
                    false};
  return std::nullopt;
}

// Names the benchmarks each warning is about, for the lines said once after the rows.
struct Notes {
  std::vector<std::string> untested, aggregates_only, few, throttled;
  std::map<std::string, std::vector<std::string>> one_sided_metric;
};

void compare_pair(const std::string& name, const Series& o, const Series& n, const CompareOptions& options,
                  Comparison& out, Notes& notes) {
  const Basis basis = *basis_of(o, n);
  bool counted = false;
  for (const Metric& m : metrics) {
    const auto ov = values_of(o, basis.old_row, m.name);
    const auto nv = values_of(n, basis.new_row, m.name);
    if (!ov || !nv) {
      if (ov.has_value() != nv.has_value())
        notes.one_sided_metric[std::string(m.name) + (ov ? " only in old" : " only in new")].push_back(name);
      continue;
    }
    MetricComparison row;
    row.name = name;
    row.metric = m.name;
    row.statistic = basis.statistic;
    row.old_from_aggregate = basis.old_row != nullptr;
    row.new_from_aggregate = basis.new_row != nullptr;
    row.percentage = (basis.old_row && basis.old_row->aggregate_unit == "percentage") ||
                     (basis.new_row && basis.new_row->aggregate_unit == "percentage");
    row.old_value = figure(*ov, basis.statistic);
    row.new_value = figure(*nv, basis.statistic);
    row.change = relative_change(row.old_value, row.new_value);
    row.old_repetitions = repetitions_behind(o, basis.old_row);
    row.new_repetitions = repetitions_behind(n, basis.new_row);
    row.old_throttled = o.throttled;
    row.new_throttled = n.throttled;
    const bool from_runs = !row.old_from_aggregate && !row.new_from_aggregate;
    const bool testable = from_runs && std::min(ov->size(), nv->size()) >= min_repetitions_for_test;
    if (testable) row.pvalue = mann_whitney_u(*ov, *nv).pvalue;
    if (!counted) {
      counted = true;
      if (!from_runs)
        notes.aggregates_only.push_back(name);
      else if (!testable)
        notes.untested.push_back(name);
      else if (std::min(ov->size(), nv->size()) < recommended_repetitions)
        notes.few.push_back(name);
      if (row.throttled()) notes.throttled.push_back(name);
    }
    row.gates = m.gates && basis.central();
    row.verdict = basis.central() ? verdict_of(m, row.change, row.pvalue, options) : Verdict::same;
    row.regression = row.gates && row.pvalue && (row.verdict == Verdict::slower || row.verdict == Verdict::worse);
    if (row.regression) ++out.regressions;
    if (row.regression && row.throttled()) ++out.throttled_regressions;
    out.rows.push_back(std::move(row));
  }
}

void add_warnings(const Notes& notes, const Indexed& o, const Indexed& n, Comparison& out) {
  if (!notes.aggregates_only.empty()) {
    out.warnings.push_back(std::to_string(notes.aggregates_only.size()) +
                           " benchmark(s) compared on aggregates (a side has no repetitions in its file): no U test, "
                           "so their changes cannot fail (record without --benchmark_report_aggregates_only): " +
                           name_list(notes.aggregates_only));
  }
  if (!notes.untested.empty()) {
    out.warnings.push_back(std::to_string(notes.untested.size()) + " benchmark(s) with fewer than " +
                           std::to_string(min_repetitions_for_test) +
                           " repetitions on a side: no U test, so their changes cannot fail (record with "
                           "--benchmark_repetitions=" +
                           std::to_string(recommended_repetitions) + "): " + name_list(notes.untested));
  }
  if (!notes.few.empty()) {
    out.warnings.push_back(std::to_string(notes.few.size()) + " benchmark(s) with fewer than " +
                           std::to_string(recommended_repetitions) +
                           " repetitions on a side: the U test is unreliable: " + name_list(notes.few));
  }
  if (!notes.throttled.empty()) {
    out.warnings.push_back(std::to_string(notes.throttled.size()) +
                           " benchmark(s) ran throttled (clocks below the power mode's) in old or new: a change "
                           "there may be the machine's, not the code's: " +
                           name_list(notes.throttled));
  }
  for (const auto& [what, names] : notes.one_sided_metric)
    out.warnings.push_back(what + ", not compared: " + name_list(names));
  if (o.complexity_rows + n.complexity_rows > 0) {
    out.warnings.push_back(std::to_string(o.complexity_rows + n.complexity_rows) +
                           " BigO/RMS row(s) not compared: a complexity fit has no times to pair (as in compare.py)");
  }
}

// Nothing could be compared: one line that says why.
std::string nothing_to_compare(const ResultsFile& old_file, const ResultsFile& new_file, const Indexed& o,
                               const Indexed& n, const Comparison& c, const CompareOptions& options) {
  const std::string head =
      "nothing to compare between " + excerpt(old_file.path) + " and " + excerpt(new_file.path) + ": ";
  if (old_file.benchmarks.empty()) return head + excerpt(old_file.path) + " holds no benchmarks";
  if (new_file.benchmarks.empty()) return head + excerpt(new_file.path) + " holds no benchmarks";
  if (!options.filter.empty() && o.order.empty() && n.order.empty())
    return head + "no benchmark matches --filter '" + excerpt(options.filter, 40) + "'";
  for (const auto* side : {&o, &n}) {
    const ResultsFile& f = side == &o ? old_file : new_file;
    if (side->order.empty() && side->complexity_rows > 0)
      return head + excerpt(f.path) + " holds only BigO/RMS rows, which have no times to compare";
  }
  const bool common =
      std::any_of(o.order.begin(), o.order.end(), [&](const std::string& s) { return n.by_name.count(s) != 0; });
  if (!common) return head + "no benchmark name is in both";
  for (const auto& u : c.unpaired) {
    if (u.side != "old" && u.side != "new") return head + excerpt(u.name, 80) + ": " + u.reason;
  }
  return head + "the benchmarks in both have no times (BigO/RMS rows or rows without real_time)";
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
  std::optional<NameFilter> filter;
  if (!options.filter.empty()) filter.emplace(options.filter);
  const Indexed old_index = index(old_file, filter);
  const Indexed new_index = index(new_file, filter);

  Comparison out;
  Notes notes;
  for (const auto& name : old_index.order) {
    const Series& o = old_index.by_name.at(name);
    const auto found = new_index.by_name.find(name);
    if (found == new_index.by_name.end()) {
      if (o.measured()) out.unpaired.push_back({name, "old", "only in old", false});
      continue;
    }
    if (auto u = unpaired_of(name, o, found->second)) {
      out.unpaired.push_back(std::move(*u));
    } else if (o.measured() && found->second.measured()) {
      compare_pair(name, o, found->second, options, out, notes);
    }
  }
  for (const auto& name : new_index.order) {
    if (old_index.by_name.count(name) == 0 && new_index.by_name.at(name).measured()) {
      out.unpaired.push_back({name, "new", "only in new", false});
    }
  }
  for (const auto& u : out.unpaired) {
    if (u.regression) ++out.regressions;
  }
  if (out.rows.empty() && out.regressions == 0)
    throw InputError(nothing_to_compare(old_file, new_file, old_index, new_index, out, options));

  add_warnings(notes, old_index, new_index, out);
  const auto old_device = old_file.context_value("device.name");
  const auto new_device = new_file.context_value("device.name");
  if (old_device && new_device && *old_device != *new_device) {
    out.warnings.push_back("the runs come from different devices: '" + excerpt(*old_device, 80) + "' and '" +
                           excerpt(*new_device, 80) + "'");
  }
  return out;
}

nlohmann::json to_json(const Comparison& comparison) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : comparison.rows) {
    nlohmann::json throttled_in = nlohmann::json::array();
    if (r.old_throttled) throttled_in.push_back("old");
    if (r.new_throttled) throttled_in.push_back("new");
    const bool time = r.metric == "real_time" || r.metric == "cpu_time";
    rows.push_back(
        {{"name", r.name},
         {"metric", r.metric},
         {"old", r.old_value},
         {"new", r.new_value},
         {"change", r.change},
         {"pvalue", r.pvalue ? nlohmann::json(*r.pvalue) : nlohmann::json(nullptr)},
         {"repetitions", {r.old_repetitions, r.new_repetitions}},
         {"verdict", to_string(r.verdict)},
         {"gates", r.gates},
         {"regression", r.regression},
         {"statistic", r.statistic},
         {"from",
          {r.old_from_aggregate ? "aggregate" : "repetitions", r.new_from_aggregate ? "aggregate" : "repetitions"}},
         {"unit", r.percentage ? "fraction" : (time ? "s" : r.metric)},
         {"throttled", r.throttled()},
         {"throttled_in", throttled_in}});
  }
  nlohmann::json unpaired = nlohmann::json::array();
  for (const auto& u : comparison.unpaired) {
    unpaired.push_back({{"name", u.name}, {"present_in", u.side}, {"reason", u.reason}, {"regression", u.regression}});
  }
  return {{"comparisons", rows},
          {"unpaired", unpaired},
          {"regressions", comparison.regressions},
          {"throttled_regressions", comparison.throttled_regressions}};
}

}  // namespace edgeroof::reports
