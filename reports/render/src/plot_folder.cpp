// The report folder: checked before any work, written beside the target, put in its place whole.
#include "plot_internal.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeroof::reports {

namespace fs = std::filesystem;
using detail::printable;

namespace {

// What an earlier report holds (also those written before the marker existed, and the .tmp
// renders of their interrupted runs): the only files a replaced report may take with it.
bool report_file(const std::string& name) {
  if (name == "index.html" || name == detail::kReportMarker) return true;
  for (const char* chart :
       {"time_roofline", "energy_roofline", "power", "modes_time", "modes_energy", "latency_energy"}) {
    for (const char* ext : {".gp", ".dat", ".png", ".svg", ".png.tmp", ".svg.tmp"}) {
      if (name == std::string(chart) + ext) return true;
    }
  }
  return false;
}

// Refuses a folder that holds anything but an earlier report.
void check_replaceable(const fs::path& target) {
  std::error_code ec;
  bool marked = false, only_report_files = true;
  for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    marked = marked || name == detail::kReportMarker;
    std::error_code type_ec;
    only_report_files = only_report_files && report_file(name) && it->is_regular_file(type_ec);
  }
  if (ec) throw PlotError("cannot read the report folder " + printable(target.string()) + ": " + ec.message());
  if (!marked && !only_report_files) {
    throw PlotError(printable(target.string()) + " holds files that are not an edgeroof report (it has no " +
                    detail::kReportMarker + "): remove them or choose another -o");
  }
}

}  // namespace

fs::path check_report_target(const fs::path& out_dir) {
  fs::path target = out_dir.lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "report/"
  const std::string name = target.filename().string();
  if (out_dir.empty() || name.empty() || name == "." || name == "..") {
    throw PlotError("-o " + printable(out_dir.string()) + " must name the report folder itself");
  }
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string where = "cannot write the report " + printable(target.string()) + ": ";
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) throw PlotError(where + printable(parent.string()) + " does not exist");
  if (!S_ISDIR(st.st_mode)) throw PlotError(where + printable(parent.string()) + " is not a folder");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    throw PlotError(where + printable(parent.string()) + " is not writable (" + std::strerror(errno) + ")");
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return target;
    throw PlotError(where + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) throw PlotError(where + "it is a symbolic link; name the folder itself");
  if (!S_ISDIR(st.st_mode)) throw PlotError(where + "it exists and is not a folder");
  check_replaceable(target);
  return target;
}

namespace detail {

Staging::Staging(const fs::path& target) : m_target(target) {
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string name = (parent / ".edgeroof-plot-XXXXXX").string();
  if (::mkdtemp(name.data()) == nullptr) {
    throw PlotError("cannot create a folder beside " + printable(target.string()) + ": " + std::strerror(errno));
  }
  m_dir = name;
  // mkdtemp makes it private; the report gets the permissions any new folder would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(m_dir.c_str(), 0777 & ~mask);
}

Staging::~Staging() {
  std::error_code ec;
  if (!m_committed) fs::remove_all(m_dir, ec);
}

void Staging::commit() {
  const std::string target = m_target.string(), staged = m_dir.string();
  auto failed = [&](const std::string& what) {
    return PlotError("cannot " + what + " " + printable(target) + ": " + std::strerror(errno));
  };
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (::rename(staged.c_str(), target.c_str()) != 0) throw failed("move the report into");
    m_committed = true;
    return;
  }
#ifdef RENAME_EXCHANGE
  // Swapped in one step: a reader sees the old report or the new one, never none.
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    m_committed = true;
    std::error_code ec;
    fs::remove_all(m_dir, ec);  // the old report now
    return;
  }
  if (errno != EINVAL && errno != ENOSYS) throw failed("replace");
#endif
  const std::string old = staged + ".old";
  if (::rename(target.c_str(), old.c_str()) != 0) throw failed("replace");
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    const PlotError error = failed("replace");
    ::rename(old.c_str(), target.c_str());
    throw error;
  }
  m_committed = true;
  std::error_code ec;
  fs::remove_all(old, ec);
}

}  // namespace detail

}  // namespace edgeroof::reports
