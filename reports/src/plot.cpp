#include "edgeroof/reports/plot.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace edgeroof::reports {

namespace fs = std::filesystem;

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// gnuplot string literal in double quotes.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string si_text(double v, const std::string& unit) {
  static const char* prefixes[] = {"p", "n", "µ", "m", "", "k", "M", "G", "T", "P"};
  if (v == 0.0 || !std::isfinite(v)) return num(v) + " " + unit;
  int e = static_cast<int>(std::floor(std::log10(std::abs(v)) / 3.0));
  e = std::clamp(e, -4, 5);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3g %s%s", v / std::pow(10.0, 3 * e), prefixes[e + 4], unit.c_str());
  return buf;
}

std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(lo * std::pow(hi / lo, static_cast<double>(i) / (n - 1)));
  return out;
}

// One chart: a .dat file of blocks (selected with `index N`) and a .gp script that plots them.
class Chart {
public:
  Chart(std::string name, std::string title) : m_name(std::move(name)), m_title(std::move(title)) {}
  // Adds a block of rows; returns its index, or -1 for an empty block (nothing to plot).
  int block(const std::string& what, const std::vector<std::string>& rows) {
    if (rows.empty()) return -1;
    m_data += (m_blocks == 0 ? "" : "\n\n") + std::string("# ") + what + "\n";
    for (const auto& r : rows) m_data += r + "\n";
    return m_blocks++;
  }
  void set(const std::string& line) { m_settings.push_back(line); }
  // `using ... with ... title ...` of block `index`.
  void plot(int index, const std::string& spec) {
    if (index >= 0) m_plots.push_back("'" + m_name + ".dat' index " + std::to_string(index) + " " + spec);
  }
  void plot_function(const std::string& spec) { m_plots.push_back(spec); }
  [[nodiscard]] bool empty() const { return m_plots.empty(); }
  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] std::string data() const { return m_data.empty() ? "# no data\n" : m_data; }
  [[nodiscard]] std::string script() const {
    std::string s = "# edgeroof: " + m_title + "\n# Data in " + m_name +
                    ".dat (blocks chosen with `index`). Restyle freely, then render with e.g.\n"
                    "#   gnuplot -e \"set terminal pngcairo size 1100,750; set output '" +
                    m_name + ".png'\" " + m_name +
                    ".gp\n#   gnuplot -e \"set terminal svg size 1100,750 dynamic; set output '" + m_name + ".svg'\" " +
                    m_name + ".gp\n\n";
    s += "set termoption noenhanced\nset title " + quoted(m_title) + "\nset grid\nset key outside right top\n";
    for (const auto& l : m_settings) s += l + "\n";
    s += "plot \\\n";
    for (std::size_t i = 0; i < m_plots.size(); ++i)
      s += "  " + m_plots[i] + (i + 1 < m_plots.size() ? ", \\\n" : "\n");
    return s;
  }

private:
  std::string m_name, m_title, m_data;
  std::vector<std::string> m_settings, m_plots;
  int m_blocks = 0;
};

// A benchmark of one mode as a point: medians over its repetitions.
struct Point {
  std::string name, family, backend;
  double flops = 0.0, bytes = 0.0, time_s = 0.0;
  std::optional<double> energy_J, power_W;
  [[nodiscard]] double ai() const { return flops / bytes; }
};

// `only_mode`: the rooflines hold one mode, which a file naming no power mode belongs to.
std::vector<Point> measured_points(const std::vector<ResultsFile>& files, const std::string& mode_key, bool only_mode) {
  std::vector<Point> out;
  for (const auto& file : files) {
    const bool unnamed = only_mode && !file.context_value("power_mode.key");
    if (!unnamed && mode_key_of(file) != mode_key) continue;
    for (const auto& [name, reps] : repetitions_by_name(file)) {
      const auto parsed = parse_benchmark_name(name);
      if (!parsed) continue;
      std::vector<double> flops, bytes, time, energy, power;
      for (const auto* r : reps) {
        flops.push_back(r->counter("flops").value_or(0.0));
        bytes.push_back(r->counter("bytes").value_or(0.0));
        time.push_back(r->real_time_s);
        if (auto e = r->counter("energy_J")) energy.push_back(*e);
        if (auto p = r->counter("power_W")) power.push_back(*p);
      }
      Point p{name,          parsed->family, parsed->backend, median(flops),
              median(bytes), median(time),   std::nullopt,    std::nullopt};
      if (!(p.flops > 0.0 && p.bytes > 0.0 && p.time_s > 0.0)) continue;  // nothing to place on a log scale
      if (!energy.empty()) p.energy_J = median(energy);
      if (!power.empty()) {
        p.power_W = median(power);
      } else if (p.energy_J) {
        p.power_W = *p.energy_J / p.time_s;
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

const RooflineMode& primary_mode(const Rooflines& r) {
  for (const auto& m : r.modes) {
    if (is_maxn({m.key, m.name, m.id, 1.0, 1.0})) return m;
  }
  for (const auto& m : r.modes) {
    if (m.id && *m.id == 0) return m;
  }
  return r.modes.front();
}

std::string backend_of(const std::string& key) { return key.substr(0, key.find('/')); }
std::string rest_of(const std::string& key) { return key.substr(key.find('/') + 1); }

// The bandwidth a backend's roofs slope with: DRAM where measured, else its lowest level.
std::optional<std::pair<std::string, double>> roof_bandwidth(const RooflineMode& m, const std::string& backend) {
  std::optional<std::pair<std::string, double>> out;
  for (const auto& [key, c] : m.bandwidth_bytes_per_s) {
    if (backend_of(key) != backend) continue;
    if (rest_of(key) == "dram") return std::make_pair(rest_of(key), c.value);
    if (!out || c.value < out->second) out = std::make_pair(rest_of(key), c.value);
  }
  return out;
}

struct Range {
  double lo = 1.0 / 16.0, hi = 1024.0;
  void include(double ai) {
    if (!(ai > 0.0) || !std::isfinite(ai)) return;
    lo = std::min(lo, std::pow(2.0, std::floor(std::log2(ai)) - 1.0));
    hi = std::max(hi, std::pow(2.0, std::ceil(std::log2(ai)) + 1.0));
  }
};

std::string mode_label(const RooflineMode& m) { return m.name == m.key ? m.key : m.name + " (" + m.key + ")"; }

void add_points(Chart& chart, const std::vector<Point>& points, const std::string& family, const std::string& title,
                double (*y)(const Point&), const std::string& style) {
  std::vector<std::string> rows;
  for (const auto& p : points) {
    if (p.family != family) continue;
    const double v = y(p);
    if (v > 0.0 && std::isfinite(v)) rows.push_back(num(p.ai()) + " " + num(v) + " " + quoted(p.name));
  }
  chart.plot(chart.block(title, rows), "using 1:2 with points " + style + " title " + quoted(title));
}

// The measured benchmarks of a mode, one point style per family.
void add_measured(Chart& chart, const std::vector<Point>& points, double (*y)(const Point&)) {
  add_points(chart, points, "compute", "compute kernels (measured)", y, "pt 1 ps 1.2 lc rgb 'black'");
  add_points(chart, points, "memory", "memory kernels (measured)", y, "pt 2 ps 1.2 lc rgb 'red'");
  add_points(chart, points, "layer", "DNN layers (measured)", y, "pt 5 ps 1.0 lc rgb 'dark-orange'");
}

// Rows "I y(I)" of a model curve over the intensity grid.
template <class Y>
std::vector<std::string> curve(const std::vector<double>& grid, Y y) {
  std::vector<std::string> rows;
  for (double i : grid) rows.push_back(num(i) + " " + num(y(i)));
  return rows;
}

// Intensity on a log axis; y logarithmic with SI prefixes of `y_unit`, or linear when it is empty.
void intensity_axis(Chart& c, const Range& range, const std::string& ylabel, const std::string& y_unit) {
  c.set("set logscale x 2");
  c.set("set xrange [" + num(range.lo) + ":" + num(range.hi) + "]");
  c.set("set xlabel 'arithmetic intensity [FLOP/byte]'");
  c.set("set ylabel '" + ylabel + "'");
  if (!y_unit.empty()) {
    c.set("set logscale y 10");
    c.set("set format y '%.0s %c" + y_unit + "'");
  }
}

Chart time_roofline(const RooflineMode& m, const std::vector<Point>& points, const std::optional<Prediction>& layers) {
  Chart c("time_roofline", "Time roofline, mode " + mode_label(m) + ": FLOP/s = min(F, I x B), measured points");
  Range range;
  for (const auto& p : points) range.include(p.ai());
  for (const auto& [key, ai] : m.ridge_points()) range.include(ai);
  const auto grid = log_grid(range.lo, range.hi, 97);
  std::vector<std::string> ridges;
  for (const auto& [ckey, ceiling] : m.compute_flops_per_s) {
    const auto bw = roof_bandwidth(m, backend_of(ckey));
    if (!bw) continue;
    const auto rows = curve(grid, [&](double i) { return std::min(ceiling.value, i * bw->second); });
    c.plot(c.block("roof " + ckey + " over " + bw->first, rows),
           "using 1:2 with lines lw 2 title " + quoted(ckey + " roof (" + si_text(ceiling.value, "FLOP/s") + ")"));
    ridges.push_back(num(ceiling.value / bw->second) + " " + num(ceiling.value) + " " + quoted(ckey + "@" + bw->first));
  }
  for (const auto& [bkey, bw] : m.bandwidth_bytes_per_s) {
    double top = 0.0;
    for (const auto& [ckey, ceiling] : m.compute_flops_per_s) {
      if (backend_of(ckey) == backend_of(bkey)) top = std::max(top, ceiling.value);
    }
    if (top <= 0.0) continue;
    std::vector<std::string> rows;
    for (double i : grid) {
      if (i * bw.value <= top) rows.push_back(num(i) + " " + num(i * bw.value));
    }
    c.plot(c.block("bandwidth " + bkey, rows),
           "using 1:2 with lines dt 2 lw 1.5 title " + quoted(bkey + " (" + si_text(bw.value, "B/s") + ")"));
  }
  c.plot(c.block("ridge points", ridges), "using 1:2 with points pt 7 ps 1.6 lc rgb 'black' title 'ridge points'");
  add_measured(c, points, [](const Point& p) { return p.flops / p.time_s; });
  if (layers && !layers->modes.empty()) {
    std::vector<std::string> rows;
    for (const auto& l : layers->modes.front().layers) {
      if (l.flops > 0.0 && l.bytes > 0.0)
        rows.push_back(num(l.flops / l.bytes) + " " + num(l.flops / l.time_s) + " " + quoted(l.name));
    }
    c.plot(c.block("predicted DNN layers", rows), "using 1:2 with points pt 4 ps 0.9 lc rgb 'dark-magenta' title " +
                                                      quoted(layers->model + " layers (predicted)"));
  }
  intensity_axis(c, range, "performance [FLOP/s]", "FLOP/s");
  return c;
}

// The energy roofline per byte moved: E/Q = I·ε_flop + ε_byte + π0·max(I/F, 1/B).
double energy_per_byte(double i, double eps_f, double eps_b, double pi0, double f, double b) {
  return i * eps_f + eps_b + pi0 * std::max(i / f, 1.0 / b);
}

struct EnergyCurve {
  std::string label;
  double eps_f, eps_b, pi0, f, b;
  [[nodiscard]] double flop_per_J(double i) const { return i / energy_per_byte(i, eps_f, eps_b, pi0, f, b); }
  // Average power: E / T = (I·ε_flop + ε_byte) / max(I/F, 1/B) + π0 per byte per second.
  [[nodiscard]] double power_W(double i) const { return (i * eps_f + eps_b) / std::max(i / f, 1.0 / b) + pi0; }
};

std::vector<EnergyCurve> energy_curves(const RooflineMode& m) {
  std::vector<EnergyCurve> out;
  for (const auto& [backend, fit] : m.energy) {
    const auto bw = roof_bandwidth(m, backend);
    if (!bw) continue;
    const auto eps_b = fit.eps_byte_J.find(bw->first);
    if (eps_b == fit.eps_byte_J.end()) continue;
    for (const auto& [dtype, eps_f] : fit.eps_flop_J) {
      const auto f = m.compute_flops_per_s.find(backend + "/" + dtype);
      if (f == m.compute_flops_per_s.end()) continue;
      out.push_back({backend + "/" + dtype, eps_f, eps_b->second, fit.static_W, f->second.value, bw->second});
    }
  }
  return out;
}

Chart energy_roofline(const RooflineMode& m, const std::vector<Point>& points) {
  Chart c("energy_roofline",
          "Energy roofline, mode " + mode_label(m) + ": FLOP/J = I / (I eps_flop + eps_byte + pi0 max(I/F, 1/B))");
  Range range;
  for (const auto& p : points) range.include(p.ai());
  const auto grid = log_grid(range.lo, range.hi, 97);
  for (const auto& e : energy_curves(m)) {
    const auto rows = curve(grid, [&](double i) { return e.flop_per_J(i); });
    c.plot(c.block("energy roof " + e.label, rows), "using 1:2 with lines lw 2 title " + quoted(e.label + " (fit)"));
  }
  if (c.empty()) return c;
  auto flop_per_j = [](const Point& p) { return p.energy_J ? p.flops / *p.energy_J : 0.0; };
  add_measured(c, points, flop_per_j);
  intensity_axis(c, range, "energy efficiency [FLOP/J]", "FLOP/J");
  return c;
}

Chart power_chart(const RooflineMode& m, const std::vector<Point>& points) {
  Chart c("power",
          "Power over intensity, mode " + mode_label(m) + ": P = (I eps_flop + eps_byte) / max(I/F, 1/B) + pi0");
  Range range;
  for (const auto& p : points) range.include(p.ai());
  const auto grid = log_grid(range.lo, range.hi, 97);
  for (const auto& e : energy_curves(m)) {
    const auto rows = curve(grid, [&](double i) { return e.power_W(i); });
    c.plot(c.block("power " + e.label, rows), "using 1:2 with lines lw 2 title " + quoted(e.label + " (fit)"));
  }
  if (c.empty()) return c;
  for (const auto& [backend, fit] : m.energy) {
    c.plot_function(num(fit.static_W) + " with lines dt 2 lc rgb 'gray40' title " +
                    quoted(backend + " pi0 = " + si_text(fit.static_W, "W") + " (fit)"));
    if (fit.idle_power_W) {
      c.plot_function(num(*fit.idle_power_W) + " with lines dt 3 lc rgb 'black' title " +
                      quoted("idle power " + si_text(*fit.idle_power_W, "W") + " (measured)"));
    }
  }
  auto watts = [](const Point& p) { return p.power_W.value_or(0.0); };
  add_measured(c, points, watts);
  intensity_axis(c, range, "power [W]", "");
  c.set("set yrange [0:*]");
  return c;
}

// Up to n modes, spread over the list in its order, the primary one always among them.
std::vector<const RooflineMode*> overlay_modes(const Rooflines& r, const RooflineMode& primary, std::size_t n) {
  std::vector<const RooflineMode*> out;
  if (r.modes.size() <= n) {
    for (const auto& m : r.modes) out.push_back(&m);
    return out;
  }
  out.push_back(&primary);
  for (std::size_t k = 0; out.size() < n && k < n; ++k) {
    const auto* m = &r.modes[k * (r.modes.size() - 1) / (n - 1)];
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

// The dtype every overlaid mode is drawn with: the primary mode's highest plain (non-tensor)
// ceiling, the one most kernels run at.
std::optional<std::string> overlay_ceiling(const RooflineMode& primary) {
  std::optional<std::string> best;
  double best_value = 0.0;
  for (const auto& [key, c] : primary.compute_flops_per_s) {
    if (key.find("-tensor") != std::string::npos || c.value <= best_value) continue;
    best = key;
    best_value = c.value;
  }
  if (!best && !primary.compute_flops_per_s.empty()) best = primary.compute_flops_per_s.begin()->first;
  return best;
}

Chart modes_time(const std::vector<const RooflineMode*>& modes, const std::string& ckey) {
  Chart c("modes_time", "Time rooflines of " + std::to_string(modes.size()) + " power modes (" + ckey + ")");
  c.set("set key below");  // mode keys are long: keep the width for the chart
  Range range;
  for (const auto* m : modes) {
    for (const auto& [key, ai] : m->ridge_points()) range.include(ai);
  }
  const auto grid = log_grid(range.lo, range.hi, 97);
  for (const auto* m : modes) {
    const auto f = m->compute_flops_per_s.find(ckey);
    const auto bw = roof_bandwidth(*m, backend_of(ckey));
    if (f == m->compute_flops_per_s.end() || !bw) continue;
    const auto rows = curve(grid, [&](double i) { return std::min(f->second.value, i * bw->second); });
    c.plot(c.block("roof of " + m->key, rows), "using 1:2 with lines lw 2 title " + quoted(mode_label(*m)));
  }
  intensity_axis(c, range, "performance [FLOP/s]", "FLOP/s");
  return c;
}

Chart modes_energy(const std::vector<const RooflineMode*>& modes, const std::string& ckey) {
  Chart c("modes_energy", "Energy rooflines of the same power modes (" + ckey + ")");
  c.set("set key below");
  const Range range;
  const auto grid = log_grid(range.lo, range.hi, 97);
  for (const auto* m : modes) {
    for (const auto& e : energy_curves(*m)) {
      if (e.label != ckey) continue;
      const auto rows = curve(grid, [&](double i) { return e.flop_per_J(i); });
      c.plot(c.block("energy roof of " + m->key, rows), "using 1:2 with lines lw 2 title " + quoted(mode_label(*m)));
    }
  }
  intensity_axis(c, range, "energy efficiency [FLOP/J]", "FLOP/J");
  return c;
}

Chart latency_energy(const dnn::Workload& w, const std::vector<ModeCost>& costs, const TuneResult& t) {
  Chart c("latency_energy", "Latency and energy of " + w.model + " (batch " + std::to_string(w.batch) + ") in " +
                                std::to_string(t.modes) + " power modes (predicted)");
  auto row = [](const ModeCost& m) { return num(m.latency_s * 1e3) + " " + num(*m.energy_J) + " " + quoted(m.key); };
  std::vector<std::string> all, front;
  for (const auto& m : costs) {
    if (m.energy_J) all.push_back(row(m));
  }
  for (const auto& m : t.pareto) front.push_back(row(m));
  c.plot(c.block("all modes", all), "using 1:2 with points pt 7 ps 0.8 lc rgb 'gray50' title 'power modes'");
  c.plot(c.block("Pareto front", front), "using 1:2 with linespoints lw 2 pt 6 lc rgb 'blue' title 'Pareto front'");
  c.plot(c.block("chosen", {row(t.chosen)}), "using 1:2 with points pt 5 ps 2.2 lc rgb 'dark-green' title " +
                                                 quoted("tuned: " + t.chosen.key + " (" + t.constraint + ")"));
  if (t.maxn) {  // drawn open and last: visible where MAXN is also the chosen mode
    c.plot(c.block("MAXN", {row(*t.maxn)}),
           "using 1:2 with points pt 8 ps 3.5 lw 2 lc rgb 'red' title " + quoted("MAXN: " + t.maxn->key));
  }
  c.set("set xlabel 'latency [ms]'");
  c.set("set ylabel 'energy [J]'");
  c.set("set key below");
  return c;
}

// ---- running gnuplot -----------------------------------------------------------------------

struct ProcessResult {
  int status = -1;
  std::string stderr_text;
};

// fork + execv, no shell: arguments reach gnuplot exactly as given.
ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv_text = {exe};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string dir = cwd.string();
  int err_pipe[2];
  if (pipe(err_pipe) != 0) throw PlotError(std::string("cannot create a pipe for gnuplot: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(err_pipe[0]);
    close(err_pipe[1]);
    throw PlotError(std::string("cannot start gnuplot: ") + std::strerror(errno));
  }
  if (pid == 0) {  // child: only async-signal-safe calls from here on
    dup2(err_pipe[1], 2);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
    }
    close(err_pipe[0]);
    close(err_pipe[1]);
    if (chdir(dir.c_str()) != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(err_pipe[1]);
  ProcessResult out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(err_pipe[0], buf, sizeof(buf));
    if (n > 0) {
      out.stderr_text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return out;
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t^") != std::string::npos) last = line;
  }
  return last;
}

void render(const std::string& exe, const fs::path& dir, const std::string& chart, const std::string& terminal,
            const std::string& ext) {
  const std::string tmp = chart + "." + ext + ".tmp";
  const auto r =
      run_process(exe, {"-e", "set terminal " + terminal + "; set output '" + tmp + "'", chart + ".gp"}, dir);
  if (r.status != 0) {
    std::error_code ec;
    fs::remove(dir / tmp, ec);
    throw PlotError("gnuplot failed on " + (dir / (chart + ".gp")).string() + " (" +
                    (r.status == 127 ? "could not run " + exe : last_line(r.stderr_text)) + ")");
  }
  std::error_code ec;
  fs::rename(dir / tmp, dir / (chart + "." + ext), ec);
  if (ec) throw PlotError("cannot write " + (dir / (chart + "." + ext)).string() + ": " + ec.message());
}

// ---- index.html ----------------------------------------------------------------------------

std::string parameters_table(const Rooflines& r, const std::vector<const RooflineMode*>& shown) {
  std::string s =
      "<table>\n<tr><th>mode</th><th>frequencies</th><th>compute ceilings</th><th>bandwidths</th>"
      "<th>ridge points</th><th>energy fit</th></tr>\n";
  for (const auto* m : shown) {
    std::string freq;
    if (m->gpu_hz) freq += "GPU " + si_text(static_cast<double>(*m->gpu_hz), "Hz") + "<br>";
    if (m->emc_hz) freq += "EMC " + si_text(static_cast<double>(*m->emc_hz), "Hz") + "<br>";
    if (m->cpu_khz) freq += "CPU " + si_text(1e3 * static_cast<double>(*m->cpu_khz), "Hz");
    if (m->cpu_online) freq += " x " + std::to_string(*m->cpu_online);
    std::string compute, bandwidth, ridges, energy;
    for (const auto& [k, c] : m->compute_flops_per_s) compute += html(k) + ": " + si_text(c.value, "FLOP/s") + "<br>";
    for (const auto& [k, c] : m->bandwidth_bytes_per_s) bandwidth += html(k) + ": " + si_text(c.value, "B/s") + "<br>";
    for (const auto& [k, v] : m->ridge_points()) ridges += html(k) + ": " + si_text(v, "FLOP/B") + "<br>";
    for (const auto& [backend, e] : m->energy) {
      energy += "<b>" + html(backend) + "</b>: ";
      for (const auto& [d, v] : e.eps_flop_J)
        energy += "&epsilon;<sub>flop</sub>(" + html(d) + ") " + si_text(v, "J") + ", ";
      for (const auto& [l, v] : e.eps_byte_J)
        energy += "&epsilon;<sub>byte</sub>(" + html(l) + ") " + si_text(v, "J") + ", ";
      energy += "&pi;<sub>0</sub> " + si_text(e.static_W, "W");
      if (e.idle_power_W) energy += " (idle " + si_text(*e.idle_power_W, "W") + " measured)";
      char r2[32];
      std::snprintf(r2, sizeof(r2), ", R&sup2; %.4f", e.r2);
      energy += std::string(r2) + ", " + std::to_string(e.benchmarks.size()) + " benchmarks<br>";
    }
    s += "<tr><td>" + html(mode_label(*m)) + "</td><td>" + freq + "</td><td>" + compute + "</td><td>" + bandwidth +
         "</td><td>" + ridges + "</td><td>" + (energy.empty() ? "not measured (no sensor)" : energy) + "</td></tr>\n";
  }
  s += "</table>\n";
  if (shown.size() < r.modes.size()) {
    s += "<p>" + std::to_string(shown.size()) + " of " + std::to_string(r.modes.size()) +
         " modes shown; every mode is in rooflines.json.</p>\n";
  }
  return s;
}

std::string index_html(const Rooflines& r, const std::vector<std::string>& charts,
                       const std::vector<std::string>& notes, const std::vector<const RooflineMode*>& shown,
                       const std::string& tune_text, bool rendered) {
  std::string s =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>edgeroof report</title>\n"
      "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%;border:1px solid #ccc}"
      "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:4px;vertical-align:top}"
      "</style></head><body>\n<h1>edgeroof report</h1>\n";
  s += "<p>" + std::to_string(r.modes.size()) +
       " power mode(s). Ceilings and bandwidths are measured (best benchmark of their kind); ridge points, "
       "energy constants and DNN predictions are derived from them by the formulas in each chart's title.</p>\n";
  for (const auto& n : notes) s += "<p><i>" + html(n) + "</i></p>\n";
  s += "<h2>Fitted parameters</h2>\n" + parameters_table(r, shown);
  if (!tune_text.empty()) s += "<h2>Tuning</h2>\n<pre>" + html(tune_text) + "</pre>\n";
  for (const auto& c : charts) {
    s += "<h2>" + html(c) + "</h2>\n";
    if (rendered) s += "<p><a href=\"" + c + ".svg\"><img src=\"" + c + ".png\" alt=\"" + c + "\"></a></p>\n";
    s += "<p><a href=\"" + c + ".svg\">SVG</a> &middot; <a href=\"" + c +
         ".gp\">gnuplot script</a> &middot; <a href=\"" + c + ".dat\">data</a></p>\n";
  }
  return s + "</body></html>\n";
}

}  // namespace

std::string find_gnuplot(const PlotOptions& options) {
  const std::string& name = options.gnuplot;
  auto runnable = [](const fs::path& p) { return access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); };
  if (name.find('/') != std::string::npos) {
    if (runnable(name)) return name;
    throw PlotError("gnuplot not found at " + name + " (install gnuplot-nox, or pass --gnuplot PATH)");
  }
  const char* env = std::getenv("PATH");
  const std::string path = options.search_path ? *options.search_path : (env != nullptr ? env : "");
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (runnable(candidate)) return candidate.string();
  }
  throw PlotError(
      name +
      " not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get install gnuplot-nox', or pass --gnuplot PATH)");
}

PlotReport write_report(const Rooflines& rooflines, const PlotOptions& options) {
  if (rooflines.modes.empty()) throw InputError("no power modes to plot");
  const std::string exe = options.render ? find_gnuplot(options) : std::string();
  const auto& primary = primary_mode(rooflines);
  const auto points = measured_points(options.results, primary.key, rooflines.modes.size() == 1);

  PlotReport report;
  std::optional<Prediction> layers;
  std::optional<TuneResult> tuned;
  std::vector<ModeCost> costs;
  std::string tune_text;
  if (options.workload) {
    try {
      layers = predict(*options.workload, rooflines, options.predict, {primary.key});
    } catch (const InputError& e) {
      report.notes.push_back(std::string("predicted layer points left out: ") + e.what());
    }
    try {
      costs = cost_modes(*options.workload, rooflines, options.predict).costs;
      tuned = tune(costs, options.constraint);
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%s, batch %lld: %s over %zu modes\nchosen  %s: %s, %s\nfastest %s: %s, %s\n",
                    options.workload->model.c_str(), static_cast<long long>(options.workload->batch),
                    tuned->constraint.c_str(), tuned->modes, tuned->chosen.key.c_str(),
                    si_text(tuned->chosen.latency_s, "s").c_str(), si_text(*tuned->chosen.energy_J, "J").c_str(),
                    tuned->fastest.key.c_str(), si_text(tuned->fastest.latency_s, "s").c_str(),
                    si_text(*tuned->fastest.energy_J, "J").c_str());
      tune_text = buf;
      if (tuned->maxn) {
        std::snprintf(buf, sizeof(buf), "MAXN    %s: %s, %s\nsaving vs MAXN: %s (%.1f%%)\n", tuned->maxn->key.c_str(),
                      si_text(tuned->maxn->latency_s, "s").c_str(), si_text(*tuned->maxn->energy_J, "J").c_str(),
                      si_text(*tuned->saving_vs_maxn_J, "J").c_str(), *tuned->saving_vs_maxn_pct);
        tune_text += buf;
      }
    } catch (const InputError& e) {
      report.notes.push_back(std::string("latency_energy left out: ") + e.what());
    }
  } else {
    report.notes.push_back("latency_energy left out: no --model or --workload given");
  }

  std::vector<Chart> charts;
  charts.push_back(time_roofline(primary, points, layers));
  if (auto c = energy_roofline(primary, points); !c.empty()) {
    charts.push_back(std::move(c));
    charts.push_back(power_chart(primary, points));
  } else {
    report.notes.push_back("energy_roofline and power left out: mode " + primary.key +
                           " has no energy fit (measured without a sensor)");
  }
  const auto shown = overlay_modes(rooflines, primary, options.overlay_modes);
  if (const auto ckey = overlay_ceiling(primary); ckey && rooflines.modes.size() > 1) {
    charts.push_back(modes_time(shown, *ckey));
    if (auto c = modes_energy(shown, *ckey); !c.empty()) charts.push_back(std::move(c));
  }
  if (tuned) charts.push_back(latency_energy(*options.workload, costs, *tuned));
  // A chart with nothing to draw would be a gnuplot error: say so instead.
  std::vector<Chart> drawable;
  for (auto& c : charts) {
    if (c.empty()) {
      report.notes.push_back(c.name() + " left out: no ceilings or points to draw");
    } else {
      drawable.push_back(std::move(c));
    }
  }
  charts = std::move(drawable);

  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw PlotError("cannot create " + options.out_dir.string() + ": " + ec.message());
  auto write = [&](const std::string& name, const std::string& text) {
    power::atomic_write(options.out_dir / name, text);
    report.files.push_back(options.out_dir / name);
  };
  for (const auto& c : charts) {
    write(c.name() + ".dat", c.data());
    write(c.name() + ".gp", c.script());
    report.charts.push_back(c.name());
  }
  if (options.render) {
    // pngcairo draws antialiased lines; the libgd png terminal is the fallback gnuplot-nox may have.
    const bool cairo = run_process(exe, {"-e", "set terminal pngcairo"}, options.out_dir).status == 0;
    for (const auto& c : charts) {
      render(exe, options.out_dir, c.name(), cairo ? "pngcairo size 1100,750 font 'Sans,10'" : "png size 1100,750",
             "png");
      render(exe, options.out_dir, c.name(), "svg size 1100,750 dynamic font 'Sans,10'", "svg");
      report.files.push_back(options.out_dir / (c.name() + ".png"));
      report.files.push_back(options.out_dir / (c.name() + ".svg"));
    }
  }
  write("index.html", index_html(rooflines, report.charts, report.notes, shown, tune_text, options.render));
  return report;
}

}  // namespace edgeroof::reports
