#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeroof::power {

namespace {
std::string describe_errno(int err) { return std::generic_category().message(err); }

std::string rstrip(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\0')) {
    s.pop_back();
  }
  return s;
}
}  // namespace

std::filesystem::path Root::resolve(std::string_view machine_path) const {
  std::string_view rel = machine_path;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  return m_root / std::filesystem::path(std::string(rel));
}

bool Root::exists(std::string_view machine_path) const {
  std::error_code ec;
  return std::filesystem::exists(resolve(machine_path), ec);
}

std::string Root::read(std::string_view machine_path) const {
  const auto host = resolve(machine_path);
  const int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw SysfsError("cannot read " + host.string() + ": " + describe_errno(errno));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw SysfsError("cannot read " + host.string() + ": " + describe_errno(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return rstrip(std::move(out));
}

std::optional<std::string> Root::try_read(std::string_view machine_path) const {
  try {
    return read(machine_path);
  } catch (const SysfsError&) {
    return std::nullopt;
  }
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  }
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> Root::try_read_int(std::string_view machine_path) const {
  const auto text = try_read(machine_path);
  if (!text) return std::nullopt;
  return parse_int64(*text);
}

void Root::write(std::string_view machine_path, std::string_view value) const {
  const auto host = resolve(machine_path);
  // O_TRUNC and no O_CREAT: a sysfs attribute exists or the write is wrong.
  const int fd = ::open(host.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    throw SysfsError("cannot write " + host.string() + ": " + describe_errno(errno));
  }
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<std::size_t>(n) != value.size()) {
    throw SysfsError("cannot write '" + std::string(value) + "' to " + host.string() + ": " +
                     (n < 0 ? describe_errno(err) : std::string("short write")));
  }
}

std::vector<std::string> Root::list(std::string_view machine_path) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(resolve(machine_path), ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string quoted_value(std::string_view text) {
  constexpr std::size_t longest = 40;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < longest; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > longest) out += "...";
  return out + "'";
}

OpenNode::OpenNode(const Root& root, std::string_view machine_path) : m_path(root.resolve(machine_path).string()) {
  m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) throw SysfsError("cannot read " + m_path + ": " + describe_errno(errno));
}

OpenNode::~OpenNode() {
  if (m_fd >= 0) ::close(m_fd);
}

OpenNode::OpenNode(OpenNode&& other) noexcept
    : m_path(std::move(other.m_path)), m_fd(other.m_fd), m_errno(other.m_errno), m_text_size(other.m_text_size) {
  std::memcpy(m_text, other.m_text, sizeof(m_text));
  other.m_fd = -1;
}

OpenNode::Status OpenNode::read_int(std::int64_t& value) noexcept {
  // A node unlinked under its name is stale (a device that goes away fails the read with ENODEV
  // instead): the name is opened again, and its absence is the error.
  struct stat st {};
  if (m_fd < 0 || (::fstat(m_fd, &st) == 0 && st.st_nlink == 0)) {
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      m_errno = errno;
      return Status::unreadable;
    }
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }
  ssize_t n = 0;
  do {
    n = ::pread(m_fd, m_text, sizeof(m_text), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    m_errno = errno;
    m_text_size = 0;
    return Status::unreadable;
  }
  m_text_size = static_cast<std::size_t>(n);
  // A value longer than the buffer is no integer that fits in 64 bits.
  if (m_text_size == sizeof(m_text)) return Status::not_a_number;
  const auto parsed = parse_int64(std::string_view(m_text, m_text_size));
  if (!parsed) return Status::not_a_number;
  value = *parsed;
  return Status::ok;
}

std::string OpenNode::describe_error() const { return "cannot read " + m_path + ": " + describe_errno(m_errno); }

void atomic_write(const std::filesystem::path& path, std::string_view content) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw SysfsError("cannot create a file in " + dir.string() + ": " + describe_errno(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      throw SysfsError("cannot write " + path.string() + ": " + describe_errno(err));
    }
    done += static_cast<std::size_t>(n);
  }
  // Readable like a file made by the shell; mkstemp makes it private.
  (void)::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw SysfsError("cannot write " + path.string() + ": " + describe_errno(err));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw SysfsError("cannot write " + path.string() + ": " + describe_errno(err));
  }
}

}  // namespace edgeroof::power
