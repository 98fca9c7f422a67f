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

// A value read from a file, for a message: without the trailing newline sysfs ends values with,
// printable ASCII only (anything else as '?'), at most 40 characters (then "..."), in single quotes. The file is not
// ours: its text must not be able to break a one-line message or a terminal.
[[nodiscard]] std::string quoted_value(std::string_view text);

// A sysfs attribute kept open for a sampler that reads it many times a second: sysfs regenerates
// the value on every read at offset 0, and one pread costs a fraction of an open/read/close with
// its path lookup. A node replaced under its name (a fake tree written by rename) is opened again.
// read_int() neither allocates nor throws, so it can run in a sampler's tick.
class OpenNode {
public:
  // Throws SysfsError naming the node when it cannot be opened.
  OpenNode(const Root& root, std::string_view machine_path);
  ~OpenNode();
  OpenNode(OpenNode&& other) noexcept;
  OpenNode(const OpenNode&) = delete;
  OpenNode& operator=(const OpenNode&) = delete;
  OpenNode& operator=(OpenNode&&) = delete;

  enum class Status { ok, not_a_number, unreadable };
  // The node as a decimal integer (parse_int64). `unreadable`: error() holds the errno (ENOENT for a
  // node that vanished); `not_a_number`: last_text() holds what was read.
  [[nodiscard]] Status read_int(std::int64_t& value) noexcept;
  [[nodiscard]] const std::string& path() const { return m_path; }  // host path
  [[nodiscard]] int error() const { return m_errno; }
  [[nodiscard]] std::string_view last_text() const { return {m_text, m_text_size}; }
  // "cannot read PATH: REASON" for the last unreadable read, for an exception or a warning.
  [[nodiscard]] std::string describe_error() const;

private:
  std::string m_path;
  int m_fd = -1;
  int m_errno = 0;
  char m_text[64] = {};
  std::size_t m_text_size = 0;
};

// Writes `content` to `path` through a temporary file in the same directory and a rename, so a
// reader (or a crash) never sees half a file. Throws SysfsError.
void atomic_write(const std::filesystem::path& path, std::string_view content);

}  // namespace edgeroof::power
