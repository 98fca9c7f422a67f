// The one seam through which edgeroof reads and writes the machine: every path is taken relative
// to a root directory that stands for "/", so tests and users can point the whole program at a
// recorded or fake tree (`--root DIR`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power {

// A file of the machine could not be read or written; what() names the path and the reason
// (missing, permission denied, ...).
class SysfsError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Root {
public:
  explicit Root(std::filesystem::path root = "/") : m_root(std::move(root)) {}

  [[nodiscard]] const std::filesystem::path& path() const { return m_root; }
  // The host path of an absolute machine path such as "/sys/class/hwmon".
  [[nodiscard]] std::filesystem::path resolve(std::string_view machine_path) const;

  [[nodiscard]] bool exists(std::string_view machine_path) const;
  // Whole contents, trailing whitespace removed. Throws SysfsError.
  [[nodiscard]] std::string read(std::string_view machine_path) const;
  // nullopt when the file is missing or unreadable.
  [[nodiscard]] std::optional<std::string> try_read(std::string_view machine_path) const;
  // The file as an integer; nullopt when missing, unreadable or not a number.
  [[nodiscard]] std::optional<std::int64_t> try_read_int(std::string_view machine_path) const;
  // Writes a value to an existing node (sysfs nodes are never created). Throws SysfsError.
  void write(std::string_view machine_path, std::string_view value) const;
  // Names of the entries of a directory, sorted; empty when it does not exist.
  [[nodiscard]] std::vector<std::string> list(std::string_view machine_path) const;

private:
  std::filesystem::path m_root;
};

// A sysfs or config value as a decimal integer: an optional sign, digits, and trailing spaces,
// tabs or newlines (sysfs ends its values with one); nullopt for anything else (empty, junk, out of range).
[[nodiscard]] std::optional<std::int64_t> parse_int64(std::string_view text);

// Writes `content` to `path` through a temporary file in the same directory and a rename, so a
// reader (or a crash) never sees half a file. Throws SysfsError.
void atomic_write(const std::filesystem::path& path, std::string_view content);

}  // namespace edgeroof::power
