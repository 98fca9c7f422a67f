// The edgeroof command line: every subcommand declares its options and a run function; this file
// parses them, prints help, and renders tables as text, CSV or JSON.
#pragma once

#include "edgeroof/reports/si.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::cli {

// Wrong use of the command line: printed with a hint to --help, exit status 2.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // "--rooflines"; a short alias may follow after '|': "--out|-o"
  std::string value_name;  // "FILE"; empty for a flag without value
  std::string help;
  bool repeatable = false;
};

class Args {
public:
  [[nodiscard]] bool has(const std::string& name) const { return m_values.count(name) != 0; }
  // The value of an option given once; nullopt when absent.
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const;
  [[nodiscard]] std::string get_or(const std::string& name, const std::string& fallback) const;
  // Every value of a repeatable option, in order.
  [[nodiscard]] std::vector<std::string> all(const std::string& name) const;
  // Typed values with a clear error naming the option (the value echoed cut to 80 characters).
  [[nodiscard]] std::optional<double> number(const std::string& name) const;
  // A whole number in [min, max] (power::parse_int64: no silent wrap-around, no junk after it).
  [[nodiscard]] std::optional<std::int64_t> integer(const std::string& name,
                                                    std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                                    std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  // A percentage such as "5%" or "5" (both 5%), returned as a fraction (0.05).
  [[nodiscard]] std::optional<double> percent(const std::string& name) const;

  std::vector<std::string> positional;
  std::vector<std::string> passthrough;  // everything after "--"

private:
  friend Args parse_args(const std::vector<OptionSpec>&, const std::vector<std::string>&, bool);
  std::map<std::string, std::vector<std::string>> m_values;  // by primary name
};

// Parses argv (without the program and command names). Throws UsageError for an unknown option,
// a missing value, or an option given twice that is not repeatable.
[[nodiscard]] Args parse_args(const std::vector<OptionSpec>& specs, const std::vector<std::string>& argv,
                              bool allow_passthrough = false);

struct Command {
  std::string name;
  std::string summary;   // one line for `edgeroof --help`
  std::string synopsis;  // "edgeroof fit RESULTS.json... [-o FILE]"
  std::string details;   // paragraphs after the options in `edgeroof CMD --help`
  std::vector<OptionSpec> options;
  bool passthrough = false;  // accepts "-- ARGS"
  int (*run)(const Args&) = nullptr;
};

[[nodiscard]] std::string help_text(const Command& cmd);

// Output format of a table: --format table|csv|json (table by default).
enum class Format { table, csv, json };
[[nodiscard]] Format format_of(const Args& args);
inline const OptionSpec format_option{"--format", "table|csv|json", "output format (default table)"};
inline const OptionSpec output_option{"--out|-o", "FILE", "write to FILE (atomically) instead of standard output"};

// A table of text cells, rendered aligned for people or as CSV.
class Table {
public:
  explicit Table(std::vector<std::string> header) : m_header(std::move(header)) {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  [[nodiscard]] std::string render(Format format) const;  // table or csv
  [[nodiscard]] bool empty() const { return m_rows.empty(); }

private:
  std::vector<std::string> m_header;
  std::vector<std::vector<std::string>> m_rows;
};

// Writes text to -o FILE atomically, or to standard output.
void emit(const Args& args, const std::string& text);

// Checks, before any work is done, that the file an option names can be written: its folder
// exists and is writable, and it is not a folder itself. Throws std::runtime_error (exit 1).
void check_output(const Args& args, const std::string& option);

// An argument as it may be echoed in an error line: at most 80 characters, no line breaks.
[[nodiscard]] std::string echo(const std::string& argument);

// A JSON document as a command prints or writes it: indented, ending in a newline, and with bytes
// that are not UTF-8 (a name from a file or a file name) replaced by U+FFFD instead of failing.
[[nodiscard]] std::string json_text(const nlohmann::json& doc);

// Number formatting for tables, the same as charts and pages: edgeroof/reports/si.hpp.
using reports::si;

}  // namespace edgeroof::cli
