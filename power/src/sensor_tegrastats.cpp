#include "edgeroof/power/sensor_tegrastats.hpp"

#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string>

namespace edgeroof::power {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep_a, char sep_b) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == sep_a || s[i] == sep_b)) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != sep_a && s[j] != sep_b) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<long long> to_int(std::string_view s) {
  long long v = 0;
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> to_double(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  s.remove_suffix(suffix.size());
  return true;
}

bool is_rail_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian).
long long days_from_civil(long long y, long long m, long long d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "11-27-2026" "07:32:41" -> seconds since the epoch.
std::optional<double> parse_timestamp(std::string_view date, std::string_view time) {
  const auto d = split(date, '-', '-');
  const auto t = split(time, ':', ':');
  if (d.size() != 3 || t.size() != 3 || date.size() != 10 || time.size() != 8) return std::nullopt;
  const auto mo = to_int(d[0]), da = to_int(d[1]), yr = to_int(d[2]);
  const auto h = to_int(t[0]), mi = to_int(t[1]), s = to_int(t[2]);
  if (!mo || !da || !yr || !h || !mi || !s) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *da < 1 || *da > 31 || *h > 23 || *mi > 59 || *s > 60 || *h < 0 || *mi < 0 || *s < 0) {
    return std::nullopt;
  }
  return static_cast<double>(days_from_civil(*yr, *mo, *da) * 86400 + *h * 3600 + *mi * 60 + *s);
}

// "12%@1300", "12%@[1300,1300]", "12%", "off".
void parse_util_freq(std::string_view v, std::optional<int>& util, std::optional<int>& freq) {
  const auto at = v.find('@');
  std::string_view u = v.substr(0, at);
  if (strip_suffix(u, "%")) {
    if (const auto x = to_int(u); x && *x >= 0 && *x <= 100) util = static_cast<int>(*x);
  }
  if (at == std::string_view::npos) return;
  std::string_view f = v.substr(at + 1);
  if (!f.empty() && f.front() == '[') {
    f.remove_prefix(1);
    f = f.substr(0, f.find_first_of(",]"));
  }
  if (const auto x = to_int(f); x && *x >= 0 && *x < 1000000) freq = static_cast<int>(*x);
}

// Fields are separated by spaces; tabs and a CRLF log's carriage returns count as spaces.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (auto part : split(line, ' ', '\t')) {
    for (auto field : split(part, '\r', '\r')) out.push_back(field);
  }
  return out;
}

// "VDD_IN 5139mW/5120mW" (L4T 32.5+) or "POM_5V_IN 3041/3041" (older, also mW). A value with an mW
// or a sign that still is no reading is a problem, not a field of another kind.
void parse_rail(std::string_view name, std::string_view value, TegrastatsSample& s, bool& taken) {
  const auto slash = value.find('/');
  std::string_view now = value.substr(0, slash);
  std::string_view avg = value.substr(slash + 1);
  const bool unit_now = strip_suffix(now, "mW");
  const bool unit_avg = strip_suffix(avg, "mW");
  const auto a = to_int(now), b = to_int(avg);
  const bool looks_like_power = value.find("mW") != std::string_view::npos || (a && b);
  taken = looks_like_power;
  if (!looks_like_power) return;
  const std::string rail(name);
  if (!a || !b || unit_now != unit_avg) {
    s.problems.push_back(rail + ": " + quoted_value(value) + " is not a power reading in mW");
  } else if (*a < 0 || *b < 0) {
    s.problems.push_back(rail + ": " + quoted_value(value) + " is a negative power");
  } else if (static_cast<double>(std::max(*a, *b)) > max_rail_power_W * 1e3) {
    s.problems.push_back(rail + ": " + quoted_value(value) + " is beyond 10 kW");
  } else {
    s.rail_mW[rail] = static_cast<double>(*a);
    s.rail_average_mW[rail] = static_cast<double>(*b);
  }
}

}  // namespace

TegrastatsSample parse_tegrastats_line(std::string_view line) {
  TegrastatsSample s;
  const auto tok = fields(line);
  std::size_t i = 0;
  if (tok.size() >= 2) {
    s.timestamp_s = parse_timestamp(tok[0], tok[1]);
    if (s.timestamp_s) i = 2;
  }
  for (; i < tok.size(); ++i) {
    const std::string_view name = tok[i];
    const std::string_view next = i + 1 < tok.size() ? tok[i + 1] : std::string_view();
    if (name == "RAM" && !next.empty()) {
      std::string_view v = next;
      if (strip_suffix(v, "MB")) {
        const auto slash = v.find('/');
        if (slash != std::string_view::npos) {
          s.ram_used_mb = to_int(v.substr(0, slash));
          s.ram_total_mb = to_int(v.substr(slash + 1));
        }
      }
      ++i;
    } else if (name == "CPU" && next.size() >= 2 && next.front() == '[' && next.back() == ']') {
      for (const auto core : split(next.substr(1, next.size() - 2), ',', ',')) {
        TegrastatsCpu c;
        if (core != "off") parse_util_freq(core, c.util_percent, c.freq_mhz);
        s.cpus.push_back(c);
      }
      ++i;
    } else if (name.size() > 5 && name.substr(name.size() - 5) == "_FREQ" && !next.empty()) {
      std::optional<int> util, freq;
      if (next.find('%') != std::string_view::npos) {
        parse_util_freq(next, util, freq);
      } else if (const auto x = to_int(next); x && *x >= 0 && *x < 1000000) {
        freq = static_cast<int>(*x);  // "VIC_FREQ 729": a clock without utilisation
      }
      const std::string unit(name.substr(0, name.size() - 5));
      if (util) s.util_percent[unit] = *util;
      if (freq) s.freq_mhz[unit] = *freq;
      ++i;
    } else if (const auto at = name.find('@'); at != std::string_view::npos && at > 0 && name.back() == 'C') {
      // "CPU@46.968C"; -256C marks a sensor that is not present.
      if (const auto t = to_double(name.substr(at + 1, name.size() - at - 2)); t && *t > -256.0) {
        s.temperature_C[std::string(name.substr(0, at))] = *t;
      }
    } else if (is_rail_name(name) && next.find('/') != std::string_view::npos) {
      bool taken = false;
      parse_rail(name, next, s, taken);
      if (taken) ++i;
    }
  }
  return s;
}

namespace {

std::vector<std::string> rail_names(const TegrastatsSample& s) {
  std::vector<std::string> names;
  for (const auto& [rail, mW] : s.rail_mW) names.push_back(rail);
  return names;
}

// The set of rails most lines carry; on a tie the larger set, since a cut line loses rails.
std::vector<std::string> usual_rails(const std::vector<TegrastatsSample>& samples) {
  std::map<std::vector<std::string>, std::size_t> count;
  for (const auto& s : samples) {
    if (s.problems.empty() && !s.rail_mW.empty()) ++count[rail_names(s)];
  }
  const std::vector<std::string>* best = nullptr;
  std::size_t best_count = 0;
  for (const auto& [names, n] : count) {
    if (n > best_count || (n == best_count && names.size() > best->size())) {
      best = &names;
      best_count = n;
    }
  }
  return best ? *best : std::vector<std::string>{};
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Why a line cannot be integrated; "" when it can.
std::string fault(const TegrastatsSample& s, const std::vector<std::string>& usual) {
  if (!s.problems.empty()) return s.problems.front();
  if (s.rail_mW.empty()) return "no power rails: not a tegrastats line, or cut short";
  const auto names = rail_names(s);
  if (names == usual) return "";
  std::vector<std::string> missing, extra;
  std::set_difference(usual.begin(), usual.end(), names.begin(), names.end(), std::back_inserter(missing));
  std::set_difference(names.begin(), names.end(), usual.begin(), usual.end(), std::back_inserter(extra));
  std::string why = "rails differ from the log's other lines (";
  if (!missing.empty()) why += "missing " + list(missing);
  if (!extra.empty()) why += std::string(missing.empty() ? "" : "; ") + "unexpected " + list(extra);
  return why + "): cut short or garbled";
}

}  // namespace

TegrastatsLog parse_tegrastats(std::istream& in, double interval_s) {
  TegrastatsLog log;
  log.interval_s = interval_s;
  std::vector<TegrastatsSample> parsed;
  std::vector<std::size_t> numbers;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    parsed.push_back(parse_tegrastats_line(line));
    numbers.push_back(number);
  }
  const auto usual = usual_rails(parsed);
  for (std::size_t slot = 0; slot < parsed.size(); ++slot) {
    if (auto why = fault(parsed[slot], usual); !why.empty()) {
      log.skipped.push_back({numbers[slot], std::move(why)});
      continue;
    }
    log.time_s.push_back(static_cast<double>(slot) * interval_s);
    log.line.push_back(numbers[slot]);
    log.samples.push_back(std::move(parsed[slot]));
  }
  return log;
}

std::map<std::string, double> tegrastats_energy_J(const TegrastatsLog& log, double begin_s, double end_s) {
  std::map<std::string, double> energy;
  const std::size_t n = std::min(log.samples.size(), log.time_s.size());
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const double t0 = log.time_s[k], t1 = log.time_s[k + 1];
    const double a = std::max(t0, begin_s), b = std::min(t1, end_s);
    if (!(t1 > t0) || !(b > a)) continue;
    for (const auto& [rail, p0_mW] : log.samples[k].rail_mW) {
      const auto other = log.samples[k + 1].rail_mW.find(rail);
      if (other == log.samples[k + 1].rail_mW.end()) continue;
      // Linear between the two readings, integrated exactly over the clipped part [a, b].
      const double slope = (other->second - p0_mW) / (t1 - t0);
      const double pa = p0_mW + slope * (a - t0), pb = p0_mW + slope * (b - t0);
      energy[rail] += 0.5 * (pa + pb) * (b - a) * 1e-3;
    }
  }
  return energy;
}

double tegrastats_gap_s(const TegrastatsLog& log, double begin_s, double end_s) {
  double gap = 0.0;
  // Half an interval of slack: the slots are exact multiples, so anything wider skipped a line.
  const double one_interval = log.interval_s * 1.5;
  for (std::size_t k = 0; k + 1 < log.time_s.size(); ++k) {
    const double t0 = log.time_s[k], t1 = log.time_s[k + 1];
    if (!(t1 - t0 > one_interval)) continue;
    gap += std::max(0.0, std::min(t1, end_s) - std::max(t0, begin_s));
  }
  return gap;
}

}  // namespace edgeroof::power
