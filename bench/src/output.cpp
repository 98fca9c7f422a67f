#include "output.hpp"

#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"
#include "edgeroof/results/reader.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace edgeroof::bench {
namespace {

// Path of the temporary file for the signal handler, which may only use what is already there.
char g_partial[4096] = {0};

extern "C" void remove_partial_and_exit(int sig) {
  if (g_partial[0] != '\0') ::unlink(g_partial);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// The flag of a run, and of an aggregate that is one of its values (mean, median, min, max): some
// repetition was throttled. A spread of the flag (stddev, cv) is no flag.
bool throttled(const nlohmann::json& benchmark) {
  const auto it = benchmark.find(results::counters::throttled);
  if (it == benchmark.end() || !it->is_number()) return false;
  const auto aggregate = benchmark.find("aggregate_name");
  if (aggregate != benchmark.end() && aggregate->is_string() && (*aggregate == "stddev" || *aggregate == "cv"))
    return false;
  return it->get<double>() > 0.0;
}

std::string describe_errno(int err) { return std::strerror(err); }

}  // namespace

void check_results_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw UsageError("--benchmark_out needs a file name");
  const std::string flag = "--benchmark_out=" + path;
  std::error_code ec;
  if (path.back() == '/' || fs::is_directory(path, ec)) throw UsageError(flag + " is a directory: name a file");
  const fs::path parent = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::exists(parent, ec)) throw UsageError(flag + ": the directory " + parent.string() + " does not exist");
  if (!fs::is_directory(parent, ec)) throw UsageError(flag + ": " + parent.string() + " is not a directory");
  // The file Google Benchmark will write, made and removed now: a refusal then costs no run.
  const std::string partial = path + ".partial";
  const bool existed = fs::exists(partial, ec);
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + partial + ": " + describe_errno(errno));
  ::close(fd);
  if (!existed) ::unlink(partial.c_str());
}

std::string strip_time_type(std::string name) {
  for (const std::string suffix : {"/real_time", "/manual_time"}) {
    const auto at = name.find(suffix);
    if (at == std::string::npos) continue;
    const auto after = at + suffix.size();
    // Only as the last component, possibly followed by an aggregate's "_median" and the like.
    if (after == name.size() || (name[after] == '_' && name.find('/', after) == std::string::npos))
      name.erase(at, suffix.size());
  }
  return name;
}

Output::Output(std::vector<char*>& args) {
  for (auto& arg : args) {
    if (std::strncmp(arg, "--benchmark_out_format=", 23) != 0) continue;
    const std::string format = arg + 23;
    if (format != "json" && format != "console" && format != "csv")
      throw UsageError("--benchmark_out_format takes json, console or csv, not '" + format + "'");
    m_json = format == "json";
  }
  for (auto& arg : args) {
    if (std::strncmp(arg, "--benchmark_out=", 16) != 0) continue;
    m_final = arg + 16;
    check_results_path(m_final);
    m_partial = m_final + ".partial";
    m_arg = "--benchmark_out=" + m_partial;
    arg = m_arg.data();
    if (m_partial.size() < sizeof(g_partial)) std::strcpy(g_partial, m_partial.c_str());
    std::signal(SIGINT, remove_partial_and_exit);
    std::signal(SIGTERM, remove_partial_and_exit);
  }
}

Output::~Output() {
  // Still there only when finish() did not complete; an unreadable one is kept for the user.
  if (!m_partial.empty() && !m_keep_partial) ::unlink(m_partial.c_str());
  g_partial[0] = '\0';
}

void Output::finish(const std::map<std::string, std::string>& context) {
  if (m_final.empty()) return;
  std::ifstream in(m_partial);
  if (!in) throw std::runtime_error("Google Benchmark wrote no results to " + m_partial);
  std::stringstream text;
  text << in.rdbuf();
  if (!m_json) {
    power::atomic_write(m_final, text.str());
  } else {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(results::non_finite_to_null(text.str()));
    } catch (const nlohmann::json::parse_error& e) {
      m_keep_partial = true;  // the measurements are worth more than the format: keep them
      throw std::runtime_error("cannot read Google Benchmark's results (" + std::string(e.what()) +
                               "); the raw results are kept in " + m_partial);
    }
    for (const auto& [key, value] : context) doc["context"][key] = value;
    for (auto& b : doc["benchmarks"]) {
      for (const char* key : {"name", "run_name"}) {
        if (b.contains(key) && b[key].is_string()) b[key] = strip_time_type(b[key].get<std::string>());
      }
      if (throttled(b)) {
        const auto label = b.find("label");
        b["label"] = results::add_label_token(label != b.end() && label->is_string() ? label->get<std::string>() : "",
                                              results::labels::throttled);
      }
    }
    power::atomic_write(m_final, doc.dump(2) + "\n");
  }
  ::unlink(m_partial.c_str());
  m_partial.clear();
  g_partial[0] = '\0';
}

}  // namespace edgeroof::bench
