#include "cli.hpp"

#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace edgeroof::cli {

namespace {

std::vector<std::string> names_of(const OptionSpec& spec) {
  std::vector<std::string> names;
  std::stringstream ss(spec.name);
  std::string n;
  while (std::getline(ss, n, '|')) names.push_back(n);
  return names;
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const auto& s : specs) {
    const auto names = names_of(s);
    if (std::find(names.begin(), names.end(), name) != names.end()) return &s;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> Args::get(const std::string& name) const {
  const auto it = m_values.find(name);
  if (it == m_values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

std::vector<std::string> Args::all(const std::string& name) const {
  const auto it = m_values.find(name);
  return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

std::optional<double> Args::number(const std::string& name) const {
  const auto v = get(name);
  if (!v) return std::nullopt;
  try {
    std::size_t used = 0;
    const double d = std::stod(*v, &used);
    if (used == v->size() && std::isfinite(d)) return d;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " takes a number, not '" + *v + "'");
}

std::optional<long long> Args::integer(const std::string& name) const {
  const auto v = get(name);
  if (!v) return std::nullopt;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(*v, &used);
    if (used == v->size()) return n;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " takes a whole number, not '" + *v + "'");
}

std::optional<double> Args::percent(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  std::string text = *v;
  if (!text.empty() && text.back() == '%') text.pop_back();
  try {
    std::size_t used = 0;
    const double d = std::stod(text, &used);
    if (used == text.size() && std::isfinite(d) && d >= 0) return d / 100.0;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " takes a percentage such as 5%, not '" + *v + "'");
}

Args parse_args(const std::vector<OptionSpec>& specs, const std::vector<std::string>& argv, bool allow_passthrough) {
  Args args;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      if (!allow_passthrough) throw UsageError("this command takes no arguments after --");
      args.passthrough.assign(argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a;
    std::optional<std::string> inline_value;
    if (const auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
    }
    const OptionSpec* spec = find_spec(specs, name);
    if (spec == nullptr) throw UsageError("unknown option " + name);
    const std::string primary = names_of(*spec).front();
    std::string value;
    if (spec->value_name.empty()) {
      if (inline_value) throw UsageError(primary + " takes no value");
      value = "true";
    } else if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= argv.size()) throw UsageError(primary + " needs a value (" + spec->value_name + ")");
      value = argv[++i];
    }
    auto& slot = args.m_values[primary];
    if (!slot.empty() && !spec->repeatable) throw UsageError(primary + " given twice");
    slot.push_back(value);
  }
  return args;
}

std::string help_text(const Command& cmd) {
  std::string out = "usage: " + cmd.synopsis + "\n\n" + cmd.summary + "\n";
  if (!cmd.options.empty()) {
    out += "\noptions:\n";
    for (const auto& o : cmd.options) {
      std::string left = "  " + o.name;
      for (auto& c : left) {
        if (c == '|') c = ',';
      }
      if (!o.value_name.empty()) left += " " + o.value_name;
      if (left.size() < 28)
        left.resize(28, ' ');
      else
        left += "  ";
      out += left + o.help + "\n";
    }
  }
  if (!cmd.details.empty()) out += "\n" + cmd.details + (cmd.details.back() == '\n' ? "" : "\n");
  return out;
}

Format format_of(const Args& args) {
  const std::string f = args.get_or("--format", "table");
  if (f == "table") return Format::table;
  if (f == "csv") return Format::csv;
  if (f == "json") return Format::json;
  throw UsageError("--format takes table, csv or json, not '" + f + "'");
}

std::string Table::render(Format format) const {
  std::string out;
  if (format == Format::csv) {
    auto cell = [](const std::string& s) {
      if (s.find_first_of(",\"\n") == std::string::npos) return s;
      std::string q = "\"";
      for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    };
    auto line = [&](const std::vector<std::string>& row) {
      for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + cell(row[i]);
      out += "\n";
    };
    line(m_header);
    for (const auto& r : m_rows) line(r);
    return out;
  }
  std::vector<std::size_t> width(m_header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(m_header);
  for (const auto& r : m_rows) measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    std::string l;
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      std::string c = row[i];
      if (i + 1 < row.size()) c.resize(width[i], ' ');
      l += (i ? "  " : "") + c;
    }
    out += l + "\n";
  };
  line(m_header);
  for (const auto& r : m_rows) line(r);
  return out;
}

void emit(const Args& args, const std::string& text) {
  if (const auto path = args.get("--out")) {
    power::atomic_write(*path, text);
  } else {
    std::cout << text;
    std::cout.flush();
  }
}

std::string si(double value, const std::string& unit, int digits) {
  static const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int p = 0;
  double v = value;
  while (std::fabs(v) >= 1000.0 && p < 6) {
    v /= 1000.0;
    ++p;
  }
  if (value != 0.0 && std::fabs(value) < 1.0) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*g %s", digits, value, unit.c_str());
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g %s%s", digits, v, prefixes[p], unit.c_str());
  return buf;
}

}  // namespace edgeroof::cli
