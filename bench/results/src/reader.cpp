#include "edgeroof/results/reader.hpp"

#include "edgeroof/results/keys.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace edgeroof::results {

using nlohmann::json;

std::optional<double> BenchmarkRecord::counter(const std::string& key) const {
  const auto it = counters.find(key);
  if (it == counters.end()) return std::nullopt;
  return it->second;
}

bool BenchmarkRecord::throttled() const {
  const double v = counter(counters::throttled).value_or(0.0);
  if (!is_aggregate()) return v == 1.0;
  // A spread of the flag is no flag; its mean, median, min or max is above 0 when a repetition was.
  return aggregate_name != "stddev" && aggregate_name != "cv" && v > 0.0;
}

std::optional<std::string> ResultsFile::context_value(const std::string& key) const {
  const auto it = context.find(key);
  if (it == context.end()) return std::nullopt;
  return it->second;
}

std::string excerpt(const std::string& text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (text.size() > max_chars) out += "... (" + std::to_string(text.size()) + " characters)";
  return out;
}

std::string read_text_file(const std::filesystem::path& path) {
  const std::string shown = excerpt(path.string());
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(shown + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(shown + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(shown + ": read error");
  return ss.str();
}

namespace {

// Keys of a Google Benchmark entry that are not user counters.
bool is_builtin_key(const std::string& key) {
  static const char* builtin[] = {"name",
                                  "family_index",
                                  "per_family_instance_index",
                                  "run_name",
                                  "run_type",
                                  "repetitions",
                                  "repetition_index",
                                  "threads",
                                  "iterations",
                                  "real_time",
                                  "cpu_time",
                                  "time_unit",
                                  "aggregate_name",
                                  "aggregate_unit",
                                  "label",
                                  "error_occurred",
                                  "error_message",
                                  "bytes_per_second",
                                  "items_per_second",
                                  "big_o",
                                  "rms",
                                  "skipped",
                                  "skip_message"};
  return std::find_if(std::begin(builtin), std::end(builtin), [&](const char* b) { return key == b; }) !=
         std::end(builtin);
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

const char* type_name(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_null()) return "null";
  return "a number";
}

// One element of "benchmarks" and where it is, so every refusal names the file, the benchmark and
// the field.
class Entry {
public:
  Entry(const json& j, std::string where) : m_j(j), m_where(std::move(where)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw InputError(m_where + ": " + field + " " + problem);
  }
  [[nodiscard]] bool has(const char* key) const { return m_j.contains(key) && !m_j[key].is_null(); }
  [[nodiscard]] const json& raw() const { return m_j; }

  [[nodiscard]] std::optional<std::string> text(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = m_j[key];
    if (!v.is_string()) fail(key, std::string("is ") + type_name(v) + ", not a string");
    return v.get<std::string>();
  }
  [[nodiscard]] bool flag(const char* key) const {
    if (!has(key)) return false;
    const json& v = m_j[key];
    if (!v.is_boolean()) fail(key, std::string("is ") + type_name(v) + ", not true or false");
    return v.get<bool>();
  }
  // A number; nullopt where absent or null (Google Benchmark's NaN and inf).
  [[nodiscard]] std::optional<double> number(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = m_j[key];
    if (!v.is_number()) fail(key, std::string("is ") + type_name(v) + ", not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(key, "is not a finite number");
    return d;
  }
  // A whole number in [min, max]; integral floats (1.0e+03) count as whole.
  [[nodiscard]] std::optional<std::int64_t> integer(const char* key, std::int64_t min, std::int64_t max) const {
    if (!has(key)) return std::nullopt;
    const json& v = m_j[key];
    if (!v.is_number()) fail(key, std::string("is ") + type_name(v) + ", not a whole number");
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max)) fail(key, "= " + std::to_string(u) + " does not fit");
      if (min > 0 && u < static_cast<std::uint64_t>(min)) fail(key, "= " + std::to_string(u) + " is out of range");
      return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) {
      const auto i = v.get<std::int64_t>();
      if (i < min || i > max) fail(key, "= " + std::to_string(i) + " is out of range");
      return i;
    }
    const double d = v.get<double>();
    // 2^63 is the first double above INT64_MAX.
    if (!(d == std::floor(d)) || !(std::fabs(d) < 9223372036854775808.0)) fail(key, "is not a whole number that fits");
    const auto i = static_cast<std::int64_t>(d);
    if (i < min || i > max) fail(key, "= " + std::to_string(i) + " is out of range");
    return i;
  }
  [[nodiscard]] std::optional<int> small_integer(const char* key, int min) const {
    const auto v = integer(key, min, std::numeric_limits<int>::max());
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  }

private:
  const json& m_j;
  std::string m_where;
};

double time_unit_seconds(const Entry& e) {
  const std::string unit = e.text("time_unit").value_or("ns");  // Google Benchmark's default unit
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  e.fail("time_unit", "'" + excerpt(unit, 20) + "' is not ns, us, ms or s");
}

// Before 1.5 there is no run_type: aggregates are told by their name's suffix, as compare.py
// (which pairs by name) sees them.
void infer_aggregate(BenchmarkRecord& r) {
  for (const char* suffix : {"_mean", "_median", "_stddev", "_cv"}) {
    const std::size_t n = std::char_traits<char>::length(suffix);
    if (r.name.size() > n && r.name.compare(r.name.size() - n, n, suffix) == 0) {
      r.run_type = "aggregate";
      r.aggregate_name = suffix + 1;
      r.run_name = r.name.substr(0, r.name.size() - n);
      return;
    }
  }
}

void read_identity(const Entry& e, BenchmarkRecord& r) {
  const auto run_name = e.text("run_name");
  const auto run_type = e.text("run_type");
  r.run_type = run_type.value_or("iteration");
  if (r.run_type != "iteration" && r.run_type != "aggregate")
    e.fail("run_type", "'" + excerpt(r.run_type, 20) + "' is neither iteration nor aggregate");
  r.aggregate_name = e.text("aggregate_name").value_or("");
  r.aggregate_unit = e.text("aggregate_unit").value_or("");
  if (!r.aggregate_unit.empty() && r.aggregate_unit != "time" && r.aggregate_unit != "percentage")
    e.fail("aggregate_unit", "'" + excerpt(r.aggregate_unit, 20) + "' is neither time nor percentage");
  r.run_name = run_name.value_or(r.name);
  if (!run_type) {
    infer_aggregate(r);
  } else if (!run_name && r.is_aggregate() && !r.aggregate_name.empty()) {
    const std::string suffix = "_" + r.aggregate_name;
    if (r.name.size() > suffix.size() && r.name.compare(r.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      r.run_name = r.name.substr(0, r.name.size() - suffix.size());
  }
  r.complexity = r.aggregate_name == "BigO" || r.aggregate_name == "RMS" || e.has("big_o") || e.has("rms");
  r.repetition_index = e.small_integer("repetition_index", 0).value_or(0);
  r.repetitions = e.small_integer("repetitions", 0);
  r.threads = e.small_integer("threads", 1);
  r.family_index = e.small_integer("family_index", 0);
  r.per_family_instance_index = e.small_integer("per_family_instance_index", 0);
  r.label = e.text("label").value_or("");
  const bool failed = e.flag("error_occurred");
  r.skipped = e.flag("skipped") && !failed;
  r.error = failed || r.skipped;
  r.error_message = failed ? e.text("error_message").value_or("") : e.text("skip_message").value_or("");
}

void read_times(const Entry& e, BenchmarkRecord& r) {
  r.iteration_count = e.integer("iterations", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
  r.iterations = static_cast<double>(r.iteration_count);
  if (r.complexity) {
    r.measured = r.has_cpu_time = false;
    return;
  }
  const auto real = e.number("real_time");
  const auto cpu = e.number("cpu_time");
  for (const auto& [key, v] : {std::pair{"real_time", real}, std::pair{"cpu_time", cpu}}) {
    if (v && *v < 0.0) e.fail(key, "= " + number_text(*v) + " is negative");
  }
  // Null is how NaN reaches us: an undefined statistic in an aggregate, impossible in a run.
  if (!r.is_aggregate() && !r.error) {
    for (const char* key : {"real_time", "cpu_time"}) {
      if (e.raw().contains(key) && e.raw()[key].is_null()) e.fail(key, "is not a finite number (NaN)");
    }
    const bool timed = e.raw().contains("cpu_time") || e.raw().contains("time_unit") || e.raw().contains("iterations");
    if (!real && timed) e.fail("real_time", "is missing");
  }
  // A percentage aggregate (cv) holds fractions in the time fields.
  const double unit = r.aggregate_unit == "percentage" ? 1.0 : time_unit_seconds(e);
  r.measured = real.has_value() && !r.error;
  r.has_cpu_time = cpu.has_value() && !r.error;
  r.real_time_s = real.value_or(0.0) * unit;
  r.cpu_time_s = cpu.value_or(0.0) * unit;
}

void read_counters(const Entry& e, BenchmarkRecord& r) {
  for (const auto& [key, value] : e.raw().items()) {
    if (!value.is_number() || is_builtin_key(key)) continue;  // strings, objects, null: not counters
    const double v = value.get<double>();
    if (!std::isfinite(v)) e.fail(key, "is not a finite number");
    if (counters::is_non_negative(key)) {
      if (v < 0.0) e.fail(key, "= " + number_text(v) + " is negative");
      if (key == counters::throttled && !r.is_aggregate() && v != 0.0 && v != 1.0)
        e.fail(key, "= " + number_text(v) + " is not 0 or 1");
      if (key == counters::coverage && !r.is_aggregate() && v > 1.0) e.fail(key, "= " + number_text(v) + " is above 1");
    }
    r.counters[key] = v;
  }
}

BenchmarkRecord read_record(const json& b, const std::string& origin, std::size_t index) {
  const std::string at = excerpt(origin) + ": benchmarks[" + std::to_string(index) + "]";
  if (!b.is_object()) throw InputError(at + ": is " + type_name(b) + ", not an object");
  if (!b.contains("name")) throw InputError(at + ": no name");
  if (!b["name"].is_string()) throw InputError(at + ": name is " + type_name(b["name"]) + ", not a string");
  BenchmarkRecord r;
  r.name = b["name"].get<std::string>();
  const Entry e(b, at + " (" + excerpt(r.name, 80) + ")");
  read_identity(e, r);
  read_times(e, r);
  read_counters(e, r);
  return r;
}

}  // namespace

std::string non_finite_to_null(const std::string& text) {
  static const char* tokens[] = {"-Infinity", "Infinity", "-NaN", "NaN", "-nan", "nan", "-inf", "inf"};
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      ++i;
      continue;
    }
    bool replaced = false;
    if (c == '-' || c == 'N' || c == 'n' || c == 'I' || c == 'i') {
      for (const char* t : tokens) {
        const std::size_t n = std::char_traits<char>::length(t);
        if (text.compare(i, n, t) == 0) {
          out += "null";
          i += n;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out += c;
      ++i;
    }
  }
  return out;
}

ResultsFile parse_results(const std::string& text, const std::string& origin) {
  const std::string shown = excerpt(origin);
  json doc;
  try {
    doc = json::parse(non_finite_to_null(text));
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw InputError(shown + ": not valid JSON (" + excerpt(e.what(), 200) + ")");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw InputError(shown + ": not Google Benchmark results (no \"benchmarks\" array)");
  }
  ResultsFile out;
  out.path = origin;
  if (doc.contains("context") && doc["context"].is_object()) {
    for (const auto& [key, value] : doc["context"].items()) {
      if (value.is_string()) {
        out.context[key] = value.get<std::string>();
      } else if (value.is_number() || value.is_boolean()) {
        out.context[key] = value.dump();
      }
    }
  }
  const auto& benchmarks = doc["benchmarks"];
  out.benchmarks.reserve(benchmarks.size());
  for (std::size_t i = 0; i < benchmarks.size(); ++i) out.benchmarks.push_back(read_record(benchmarks[i], origin, i));
  return out;
}

ResultsFile load_results(const std::filesystem::path& path) {
  return parse_results(read_text_file(path), path.string());
}

namespace {

// Runs make(i) for i in [0, n) on one thread per core and returns the results in order; the
// exception of the lowest failing index is rethrown.
template <class T, class Make>
std::vector<T> in_parallel(std::size_t n, Make make) {
  std::vector<std::optional<T>> slots(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        slots[i] = make(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const std::size_t threads = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), n);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::vector<T> out;
  out.reserve(n);
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

}  // namespace

std::vector<ResultsFile> load_results(const std::vector<std::filesystem::path>& paths) {
  return in_parallel<ResultsFile>(paths.size(), [&](std::size_t i) { return load_results(paths[i]); });
}

std::vector<ResultsFile> parse_results(const std::vector<std::string>& texts, const std::vector<std::string>& origins) {
  if (texts.size() != origins.size()) throw std::invalid_argument("parse_results: one origin per text");
  return in_parallel<ResultsFile>(texts.size(), [&](std::size_t i) { return parse_results(texts[i], origins[i]); });
}

std::map<std::string, std::vector<const BenchmarkRecord*>> repetitions_by_name(const ResultsFile& file) {
  std::map<std::string, std::vector<const BenchmarkRecord*>> out;
  for (const auto& b : file.benchmarks) {
    if (b.is_aggregate() || b.error || !b.measured) continue;
    out[b.run_name].push_back(&b);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace edgeroof::results
