#include "fake_kernel.hpp"

#include "../data/modes/fake_orin.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace edgeroof::testing {
namespace {

std::optional<std::int64_t> read_int(const fs::path& p) {
  std::ifstream in(p);
  std::int64_t v = 0;
  if (in >> v) return v;
  return std::nullopt;  // mid-write by the code under test: the next event reads it again
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

}  // namespace

FakeClockKernel::FakeClockKernel(const fs::path& root, double delay_s, double blank_s)
    : m_delay(delay_s), m_blank(blank_s) {
  m_inotify = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (m_inotify < 0 || ::pipe(m_wake) != 0) throw std::runtime_error(std::string("inotify: ") + std::strerror(errno));
  for (int cpu = 0; cpu < 12; ++cpu) {
    const fs::path dir = root / ("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq");
    add(dir / "scaling_cur_freq", {dir / "scaling_min_freq", dir / "scaling_max_freq"},
        [dir] { return read_int(dir / "scaling_max_freq"); });
  }
  // Whichever release's layout the tree has: its /sys/class/devfreq link leads to the GPU node.
  fs::path gpu;
  for (const char* name : {"17000000.ga10b", "17000000.gpu"})
    if (fs::exists(root / "sys/class/devfreq" / name)) gpu = fs::canonical(root / "sys/class/devfreq" / name);
  add(gpu / "cur_freq", {gpu / "min_freq", gpu / "max_freq"}, [gpu] { return read_int(gpu / "max_freq"); });
  // The EMC runs at the highest table rate under the cap (bpmp lists kHz); a cap of 0 is none.
  std::vector<std::int64_t> rates_hz;
  std::ifstream rates(root / "sys/kernel/debug/bpmp/debug/emc/possible_rates");
  for (std::int64_t khz = 0; rates >> khz;) rates_hz.push_back(khz * 1000);
  std::sort(rates_hz.begin(), rates_hz.end());
  fs::path cap = root / "sys/kernel/nvpmodel_clk_cap/emc";  // L4T 36; L4T 35 has emc_iso_cap
  if (!fs::exists(cap)) cap = root / "sys/kernel/nvpmodel_emc_cap/emc_iso_cap";
  add(root / "sys/kernel/debug/bpmp/debug/clk/emc/rate", {cap}, [cap, rates_hz]() -> std::optional<std::int64_t> {
    const auto c = read_int(cap);
    if (!c || rates_hz.empty()) return std::nullopt;
    if (*c <= 0) return rates_hz.back();
    const auto it = std::upper_bound(rates_hz.begin(), rates_hz.end(), *c);
    return it == rates_hz.begin() ? rates_hz.front() : *std::prev(it);
  });
  m_thread = std::thread([this] { run(); });
}

FakeClockKernel::~FakeClockKernel() {
  const char stop = 'x';
  (void)!::write(m_wake[1], &stop, 1);
  if (m_thread.joinable()) m_thread.join();
  ::close(m_inotify);
  ::close(m_wake[0]);
  ::close(m_wake[1]);
}

void FakeClockKernel::add(const fs::path& cur, const std::vector<fs::path>& limits,
                          std::function<std::optional<std::int64_t>()> target) {
  Clock c;
  c.cur = cur;
  c.target = std::move(target);
  c.shown = c.target().value_or(0);
  // The tree's symlinks (cur = max, followed at once) make way for a node only this kernel writes.
  std::error_code ec;
  fs::remove(cur, ec);
  write_text(cur, std::to_string(c.shown) + "\n");
  for (const auto& limit : limits) {
    if (::inotify_add_watch(m_inotify, limit.c_str(), IN_CLOSE_WRITE) < 0)
      throw std::runtime_error("inotify_add_watch " + limit.string() + ": " + std::strerror(errno));
  }
  m_clocks.push_back(std::move(c));
}

void FakeClockKernel::notice(std::chrono::steady_clock::time_point now) {
  for (auto& c : m_clocks) {
    const auto t = c.target();
    if (!t || *t == c.pending.value_or(c.shown)) continue;
    if (*t == c.shown) {
      c.pending.reset();  // the limits went back before the clock moved
    } else {
      c.pending = *t;
      c.due = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(m_delay);
    }
  }
}

void FakeClockKernel::change_due(std::chrono::steady_clock::time_point now) {
  std::vector<Clock*> due;
  for (auto& c : m_clocks) {
    if (c.pending && c.due <= now) due.push_back(&c);
  }
  if (due.empty()) return;
  for (auto* c : due) write_text(c->cur, "");
  std::this_thread::sleep_for(m_blank);
  for (auto* c : due) {
    c->shown = *c->pending;
    c->pending.reset();
    write_text(c->cur, std::to_string(c->shown) + "\n");
    ++m_changes;
  }
}

void FakeClockKernel::run() {
  using clock = std::chrono::steady_clock;
  for (;;) {
    // Until the next change is due (rounded up: waking early only costs a loop), or forever.
    long long timeout_ms = -1;
    for (const auto& c : m_clocks) {
      if (!c.pending) continue;
      const long long left = std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(c.due - clock::now()).count() + 1);
      timeout_ms = timeout_ms < 0 ? left : std::min(timeout_ms, left);
    }
    pollfd fds[2] = {{m_inotify, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(timeout_ms));
    if (n < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      alignas(inotify_event) char buf[4096];
      while (::read(m_inotify, buf, sizeof(buf)) > 0) {
      }
      notice(clock::now());
    }
    change_due(clock::now());
  }
}

}  // namespace edgeroof::testing
