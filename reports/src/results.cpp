#include "edgeroof/reports/results.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace edgeroof::reports {

using nlohmann::json;

std::optional<double> BenchmarkRecord::counter(const std::string& key) const {
  const auto it = counters.find(key);
  if (it == counters.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ResultsFile::context_value(const std::string& key) const {
  const auto it = context.find(key);
  if (it == context.end()) return std::nullopt;
  return it->second;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open for reading");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path.string() + ": read error");
  return ss.str();
}

namespace {

double time_unit_seconds(const std::string& unit, const std::string& origin) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  throw InputError(origin + ": unknown time_unit '" + unit + "'");
}

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
  json doc;
  try {
    doc = json::parse(non_finite_to_null(text));
  } catch (const json::parse_error& e) {
    throw InputError(origin + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw InputError(origin + ": not Google Benchmark results (no \"benchmarks\" array)");
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
  std::size_t index = 0;
  for (const auto& b : doc["benchmarks"]) {
    const std::string where = origin + ": benchmarks[" + std::to_string(index++) + "]";
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string()) throw InputError(where + ": no name");
    BenchmarkRecord r;
    r.name = b["name"].get<std::string>();
    r.run_name = b.value("run_name", r.name);
    r.run_type = b.value("run_type", std::string("iteration"));
    r.aggregate_name = b.value("aggregate_name", std::string());
    r.repetition_index = b.value("repetition_index", 0);
    r.label = b.value("label", std::string());
    r.error = b.value("error_occurred", false) || b.value("skipped", false);
    r.error_message = b.value("error_message", b.value("skip_message", std::string()));
    if (!r.error) {
      if (!b.contains("real_time") || !b["real_time"].is_number())
        throw InputError(where + " (" + r.name + "): no real_time");
      const double unit = time_unit_seconds(b.value("time_unit", std::string("ns")), where);
      r.iterations = b.value("iterations", 0.0);
      r.real_time_s = b["real_time"].get<double>() * unit;
      r.cpu_time_s = b.value("cpu_time", 0.0) * unit;
    }
    for (const auto& [key, value] : b.items()) {
      if (value.is_number() && !is_builtin_key(key)) r.counters[key] = value.get<double>();
    }
    out.benchmarks.push_back(std::move(r));
  }
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

std::optional<BenchmarkName> parse_benchmark_name(const std::string& name) {
  BenchmarkName n;
  std::stringstream ss(name);
  std::string part;
  while (std::getline(ss, part, '/')) n.parts.push_back(part);
  if (n.parts.size() < 4) return std::nullopt;
  n.family = n.parts[0];
  n.backend = n.parts[1];
  n.what = n.parts[2];
  const std::string& last = n.parts.back();
  const auto colon = last.find(':');
  if (colon != std::string::npos) {
    n.param_key = last.substr(0, colon);
    n.param_value = last.substr(colon + 1);
  }
  return n;
}

std::map<std::string, std::vector<const BenchmarkRecord*>> repetitions_by_name(const ResultsFile& file) {
  std::map<std::string, std::vector<const BenchmarkRecord*>> out;
  for (const auto& b : file.benchmarks) {
    if (b.run_type == "aggregate" || b.error) continue;
    out[b.run_name].push_back(&b);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace edgeroof::reports
