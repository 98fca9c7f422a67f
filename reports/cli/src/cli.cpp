#include "cli.hpp"

#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

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
  throw UsageError(name + " takes a number, not '" + echo(*v) + "'");
}

std::optional<std::int64_t> Args::integer(const std::string& name, std::int64_t min, std::int64_t max) const {
  const auto v = get(name);
  if (!v) return std::nullopt;
  // parse_int64 accepts the trailing newline of a sysfs value; an argument has none to accept.
  const bool plain = !v->empty() && std::isspace(static_cast<unsigned char>(v->back())) == 0;
  const auto n = plain ? power::parse_int64(*v) : std::nullopt;
  if (n && *n >= min && *n <= max) return n;
  const bool bounded =
      min != std::numeric_limits<std::int64_t>::min() || max != std::numeric_limits<std::int64_t>::max();
  throw UsageError(name + " takes a whole number" +
                   (bounded ? " from " + std::to_string(min) + " to " + std::to_string(max) : std::string()) +
                   ", not '" + echo(*v) + "'");
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
  throw UsageError(name + " takes a percentage such as 5%, not '" + echo(*v) + "'");
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
    if (spec == nullptr) throw UsageError("unknown option " + echo(name));
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
  throw UsageError("--format takes table, csv or json, not '" + echo(f) + "'");
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

void check_output(const Args& args, const std::string& option) {
  const auto path_text = args.get(option);
  if (!path_text) return;
  namespace fs = std::filesystem;
  const fs::path path(*path_text);
  const std::string what = option + " " + echo(*path_text);
  std::error_code ec;
  if (path_text->empty()) throw std::runtime_error(option + " names no file");
  if (fs::is_directory(path, ec)) throw std::runtime_error(what + ": is a directory, not a file");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error(what + ": directory " + echo(dir.string()) + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw std::runtime_error(what + ": directory " + echo(dir.string()) + " is not writable (" + std::strerror(errno) +
                             ")");
  }
}

std::string echo(const std::string& argument) { return dnn::excerpt(argument, 80); }

std::string json_text(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace edgeroof::cli
