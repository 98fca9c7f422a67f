// edgeroof tegrastats: per-rail energy over given windows of a recorded tegrastats log, by the
// same trapezoid rule and the same board-total rule as the live INA3221 sensor of edgeroof-bench.
#include "commands.hpp"
#include "edgeroof/power/sensor_ina3221.hpp"
#include "edgeroof/power/sensor_tegrastats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace edgeroof::cli {
namespace {

struct Window {
  std::string name;
  double begin_s = 0.0;
  double end_s = 0.0;
};

// "NAME=BEGIN:END" or "BEGIN:END", seconds from the first line of the log.
Window parse_window(const std::string& text) {
  Window w;
  std::string span = text;
  if (const auto eq = text.find('='); eq != std::string::npos) {
    w.name = text.substr(0, eq);
    span = text.substr(eq + 1);
  }
  const auto colon = span.find(':');
  char* end_a = nullptr;
  char* end_b = nullptr;
  const std::string a = colon == std::string::npos ? "" : span.substr(0, colon);
  const std::string b = colon == std::string::npos ? "" : span.substr(colon + 1);
  w.begin_s = std::strtod(a.c_str(), &end_a);
  w.end_s = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0' || !std::isfinite(w.begin_s) ||
      !std::isfinite(w.end_s) || !(w.end_s > w.begin_s)) {
    throw UsageError("--window takes NAME=BEGIN:END in seconds with END > BEGIN, not '" + text + "'");
  }
  if (w.name.empty()) w.name = a + ":" + b;
  return w;
}

constexpr double max_interval_ms = 3600e3;

// One line per skipped line of the log, up to a screenful; the rest counted.
void warn_skipped(const std::string& path, const power::TegrastatsLog& log) {
  constexpr std::size_t shown = 20;
  for (std::size_t i = 0; i < log.skipped.size() && i < shown; ++i) {
    std::fprintf(stderr, "edgeroof tegrastats: warning: %s:%zu: skipped: %s\n", path.c_str(), log.skipped[i].line,
                 log.skipped[i].reason.c_str());
  }
  if (log.skipped.size() > shown) {
    std::fprintf(stderr, "edgeroof tegrastats: warning: %s: %zu more lines skipped\n", path.c_str(),
                 log.skipped.size() - shown);
  }
}

power::TegrastatsLog read_log(const std::string& path, double interval_ms) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  auto log = power::parse_tegrastats(in, interval_ms * 1e-3);
  warn_skipped(path, log);
  if (log.samples.size() < 2)
    throw std::runtime_error(path + ": fewer than two good tegrastats lines (" + std::to_string(log.skipped.size()) +
                             " skipped)");
  return log;
}

// The rails as the INA3221 sensor would classify them: the board input, or the top-level sum.
struct Rails {
  std::vector<power::Rail> rails;
  bool board_input = false;
  std::string total_of;  // "VDD_IN", or the top-level rails joined by '+'
  [[nodiscard]] bool in_total(const power::Rail& r) const { return board_input ? r.board_total : r.inside.empty(); }
};

Rails rails_of(const power::TegrastatsLog& log) {
  Rails out;
  for (const auto& [name, mW] : log.samples.front().rail_mW) out.rails.push_back({name, "mW", false, ""});
  power::detail::classify_rails(out.rails);
  out.board_input = std::any_of(out.rails.begin(), out.rails.end(), [](const power::Rail& r) { return r.board_total; });
  for (const auto& r : out.rails) {
    if (out.in_total(r)) out.total_of += (out.total_of.empty() ? "" : "+") + r.name;
  }
  return out;
}

// One window's rows of the table and its JSON object.
nlohmann::json add_window(const Window& w, const power::TegrastatsLog& log, const Rails& rails, Table& table) {
  // Clipped to the recording, so the average is over the time that was recorded.
  const double from = std::max(w.begin_s, 0.0), to = std::min(w.end_s, log.time_s.back());
  if (!(to > from))
    throw std::runtime_error("window " + w.name + " lies outside the log (0 to " + std::to_string(log.time_s.back()) +
                             " s)");
  const auto energy = power::tegrastats_energy_J(log, from, to);
  double total_J = 0.0;
  // Time bridged across skipped lines: integrated between the good readings around them.
  nlohmann::json jw{
      {"name", w.name}, {"begin_s", from}, {"end_s", to}, {"gap_s", power::tegrastats_gap_s(log, from, to)}};
  for (const auto& r : rails.rails) {
    const auto it = energy.find(r.name);
    const double joules = it == energy.end() ? 0.0 : it->second;
    if (rails.in_total(r)) total_J += joules;
    jw["energy_J"][r.name] = joules;
    jw["power_W"][r.name] = joules / (to - from);
    table.add({w.name, r.name, si(joules, "J"), si(joules / (to - from), "W"), si(from, "s"), si(to, "s")});
  }
  jw["total_energy_J"] = total_J;
  jw["total_power_W"] = total_J / (to - from);
  table.add({w.name, "total (" + rails.total_of + ")", si(total_J, "J"), si(total_J / (to - from), "W"), si(from, "s"),
             si(to, "s")});
  return jw;
}

int run(const Args& args) {
  const Format format = format_of(args);
  if (args.positional.size() != 1) throw UsageError("name one tegrastats log");
  const auto interval_ms = args.number("--interval-ms");
  if (!interval_ms) throw UsageError("--interval-ms MS is required: the interval the log was recorded with");
  // tegrastats takes whole milliseconds; an hour between lines is no recording of a benchmark.
  if (!(*interval_ms > 0.0) || *interval_ms > max_interval_ms)
    throw UsageError("--interval-ms takes milliseconds in (0, 3600000], not " + *args.get("--interval-ms"));
  const auto log = read_log(args.positional[0], *interval_ms);

  std::vector<Window> windows;
  for (const auto& text : args.all("--window")) windows.push_back(parse_window(text));
  if (windows.empty()) windows.push_back({"all", 0.0, log.time_s.back()});
  const Rails rails = rails_of(log);

  Table table({"window", "rail", "energy", "average power", "from", "to"});
  nlohmann::json doc{
      {"log", args.positional[0]}, {"interval_s", *interval_ms * 1e-3},        {"samples", log.samples.size()},
      {"total", rails.total_of},   {"skipped_lines", nlohmann::json::array()}, {"windows", nlohmann::json::array()}};
  for (const auto& skip : log.skipped) doc["skipped_lines"].push_back({{"line", skip.line}, {"reason", skip.reason}});
  for (const auto& w : windows) doc["windows"].push_back(add_window(w, log, rails, table));
  emit(args, format == Format::json ? doc.dump(2) + "\n" : table.render(format));
  return 0;
}

}  // namespace

const Command& tegrastats_command() {
  static const Command cmd{
      "tegrastats",
      "per-rail energy over windows of a recorded tegrastats log",
      "edgeroof tegrastats LOG --interval-ms MS [--window NAME=BEGIN:END]... [--format table|csv|json] [-o FILE]",
      "Reads a log of `tegrastats --interval MS` (rails in mW, one line per interval) and integrates each\n"
      "rail's instantaneous power over the windows, in seconds from the first line, by the trapezoid rule.\n"
      "Line times are i x MS: the printed timestamps have a resolution of one second. A line that is\n"
      "garbled, cut short or carries a reading that is no power (negative, beyond 10 kW) is skipped with a\n"
      "warning naming its line; it keeps its time slot, and the energy is integrated between the good\n"
      "lines around it (gap_s in JSON says how long a window was bridged so). CRLF logs are read. The\n"
      "total is the board input rail (VDD_IN, POM_5V_IN) where there is one, else the sum of the rails not\n"
      "inside another, as edgeroof-bench's INA3221 sensor reports it. Without --window: the whole log.",
      {{"--interval-ms", "MS", "the interval the log was recorded with (required)"},
       {"--window", "NAME=BEGIN:END", "a window in seconds from the first line; repeatable", true},
       format_option,
       output_option},
      false,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
