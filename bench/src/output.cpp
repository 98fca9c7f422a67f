#include "output.hpp"

#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/results.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <csignal>
#include <cstring>
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

}  // namespace

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
    if (std::strncmp(arg, "--benchmark_out_format=", 23) == 0) m_json = std::strcmp(arg + 23, "json") == 0;
  }
  for (auto& arg : args) {
    if (std::strncmp(arg, "--benchmark_out=", 16) != 0) continue;
    m_final = arg + 16;
    if (m_final.empty()) throw std::invalid_argument("--benchmark_out needs a file name");
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
      doc = nlohmann::json::parse(reports::non_finite_to_null(text.str()));
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
    }
    power::atomic_write(m_final, doc.dump(2) + "\n");
  }
  ::unlink(m_partial.c_str());
  m_partial.clear();
  g_partial[0] = '\0';
}

}  // namespace edgeroof::bench
