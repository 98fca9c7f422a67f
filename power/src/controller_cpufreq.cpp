#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/machine.hpp"

#include <algorithm>

namespace edgeroof::power {
namespace {

std::string cpu_dir(int cpu) { return "/sys/devices/system/cpu/cpu" + std::to_string(cpu); }
std::string online_node(int cpu) { return cpu_dir(cpu) + "/online"; }
std::string min_node(int cpu) { return cpu_dir(cpu) + "/cpufreq/scaling_min_freq"; }
std::string max_node(int cpu) { return cpu_dir(cpu) + "/cpufreq/scaling_max_freq"; }
std::string cur_node(int cpu) { return cpu_dir(cpu) + "/cpufreq/scaling_cur_freq"; }

}  // namespace

CpufreqController::CpufreqController(ModeIo io) : m_io(std::move(io)) {
  // CPUs are numbered up to the highest present one; read_cpu_list refuses lists beyond max_cpus.
  if (const auto cpus = read_cpu_list(m_io.root, "/sys/devices/system/cpu/present"); cpus && !cpus->empty())
    m_cpu_count = cpus->back() + 1;
}

bool CpufreqController::is_online(int cpu) const {
  // CPUs without an online node (often cpu0) cannot be taken offline: they are always online.
  const auto v = m_io.root.try_read(online_node(cpu));
  return !v || *v == "1";
}

void CpufreqController::save() {
  m_saved.assign(static_cast<std::size_t>(m_cpu_count), CpuState{});
  for (int cpu = 0; cpu < m_cpu_count; ++cpu) {
    auto& s = m_saved[static_cast<std::size_t>(cpu)];
    s.online = m_io.root.try_read(online_node(cpu));
    if (is_online(cpu)) {
      s.min_khz = m_io.root.try_read_int(min_node(cpu));
      s.max_khz = m_io.root.try_read_int(max_node(cpu));
    }
  }
}

void CpufreqController::apply_cpu(const PowerMode& mode) {
  const int n = mode.cpu_online.value_or(-1);
  if (mode.cpu_online && (n < 1 || n > m_cpu_count)) {
    throw ModeError(mode.key + ": " + std::to_string(n) + " CPUs online asked, " + std::to_string(m_cpu_count) +
                    " present");
  }
  const auto will_be_online = [&](int cpu) { return mode.cpu_online ? cpu < n : is_online(cpu); };
  // Online first, so that the cpufreq nodes of the CPUs the mode needs exist when they are written.
  for (int cpu = 0; cpu < m_cpu_count && mode.cpu_online; ++cpu) {
    if (cpu < n && !is_online(cpu)) m_io.do_write(online_node(cpu), "1");
  }
  if (mode.cpu_min_khz || mode.cpu_max_khz) {
    for (int cpu = 0; cpu < m_cpu_count; ++cpu) {
      if (!will_be_online(cpu)) continue;
      const auto cur_min = m_io.root.try_read_int(min_node(cpu));
      const auto cur_max = m_io.root.try_read_int(max_node(cpu));
      if (!cur_min || !cur_max)
        throw ModeError(mode.key + ": cpu" + std::to_string(cpu) + " has no readable cpufreq limits");
      const auto max_khz = mode.cpu_max_khz.value_or(std::max(*cur_max, *mode.cpu_min_khz));
      const auto min_khz = mode.cpu_min_khz.value_or(std::min(*cur_min, max_khz));
      write_min_max(m_io, min_node(cpu), max_node(cpu), min_khz, max_khz);
    }
  }
  for (int cpu = m_cpu_count - 1; cpu >= 0 && mode.cpu_online; --cpu) {
    if (cpu < n || !is_online(cpu)) continue;
    if (!m_io.root.exists(online_node(cpu)))
      throw ModeError(mode.key + ": cpu" + std::to_string(cpu) + " cannot be taken offline");
    m_io.do_write(online_node(cpu), "0");
  }
}

void CpufreqController::apply(const PowerMode& mode) {
  if (mode.gpu_min_hz || mode.gpu_max_hz || mode.emc_max_hz || mode.tpc_pg_mask || mode.id) {
    throw ModeError(mode.key +
                    ": this machine's modes set only CPUs online and CPU frequencies (no Jetson GPU or EMC found)");
  }
  apply_cpu(mode);
}

void CpufreqController::verify_cpu(const PowerMode& mode, std::vector<std::string>& diffs) const {
  for (int cpu = 0; cpu < m_cpu_count; ++cpu) {
    const bool online = is_online(cpu);
    if (mode.cpu_online && online != (cpu < *mode.cpu_online)) {
      diffs.push_back("cpu" + std::to_string(cpu) + " is " + (online ? "online" : "offline") + ", the mode wants it " +
                      (online ? "offline" : "online"));
    }
    if (!online || !mode.cpu_max_khz) continue;
    std::string why;
    const auto cur = detail::read_clock(m_io.root, cur_node(cpu), 1000, why);
    if (!cur) {
      diffs.push_back("cpu" + std::to_string(cpu) + ": " + why);
    } else if (mode.cpu_pinned() ? *cur != *mode.cpu_max_khz : *cur > *mode.cpu_max_khz) {
      diffs.push_back("cpu" + std::to_string(cpu) + " runs at " + std::to_string(*cur) + " kHz, the mode wants " +
                      (mode.cpu_pinned() ? "" : "at most ") + std::to_string(*mode.cpu_max_khz));
    }
  }
}

std::vector<std::string> CpufreqController::verify(const PowerMode& mode) const {
  std::vector<std::string> diffs;
  verify_cpu(mode, diffs);
  return diffs;
}

void CpufreqController::restore_cpu(std::vector<std::string>& failures) {
  const auto attempt = [&failures](const auto& action) { detail::attempt(failures, action); };
  for (int cpu = 0; cpu < static_cast<int>(m_saved.size()); ++cpu) {
    const auto& s = m_saved[static_cast<std::size_t>(cpu)];
    if (s.online == "1" && !is_online(cpu)) attempt([&] { m_io.do_write(online_node(cpu), "1"); });
  }
  for (int cpu = 0; cpu < static_cast<int>(m_saved.size()); ++cpu) {
    const auto& s = m_saved[static_cast<std::size_t>(cpu)];
    if (!s.min_khz || !s.max_khz || !is_online(cpu)) continue;
    if (m_io.root.try_read_int(min_node(cpu)) == s.min_khz && m_io.root.try_read_int(max_node(cpu)) == s.max_khz)
      continue;
    attempt([&] { write_min_max(m_io, min_node(cpu), max_node(cpu), *s.min_khz, *s.max_khz); });
  }
  for (int cpu = static_cast<int>(m_saved.size()) - 1; cpu >= 0; --cpu) {
    const auto& s = m_saved[static_cast<std::size_t>(cpu)];
    if (s.online == "0" && is_online(cpu)) attempt([&] { m_io.do_write(online_node(cpu), "0"); });
  }
}

void CpufreqController::check_restored_cpu(std::vector<std::string>& diffs) const {
  for (int cpu = 0; cpu < static_cast<int>(m_saved.size()); ++cpu) {
    const auto& s = m_saved[static_cast<std::size_t>(cpu)];
    if (!s.min_khz || !s.max_khz || !is_online(cpu)) continue;
    std::string why;
    const auto cur = detail::read_clock(m_io.root, cur_node(cpu), 1000, why);
    if (!cur) {
      diffs.push_back("cpu" + std::to_string(cpu) + ": " + why);
      continue;
    }
    detail::check_within(diffs, "cpu" + std::to_string(cpu), *cur, "kHz", *s.min_khz, *s.max_khz);
  }
}

void CpufreqController::restore() {
  std::vector<std::string> failures;
  restore_cpu(failures);
  if (m_io.dry_run == nullptr) {
    await_restored(failures, [this] {
      std::vector<std::string> diffs;
      check_restored_cpu(diffs);
      return diffs;
    });
  }
  detail::throw_restore_failures(failures);
}

PowerMode CpufreqController::current() const {
  PowerMode m;
  m.key = "current";
  m.name = "current";
  int online = 0;
  for (int cpu = 0; cpu < m_cpu_count; ++cpu) online += is_online(cpu) ? 1 : 0;
  if (m_cpu_count > 0) m.cpu_online = online;
  m.cpu_min_khz = m_io.root.try_read_int(min_node(0));
  m.cpu_max_khz = m_io.root.try_read_int(max_node(0));
  return m;
}

}  // namespace edgeroof::power
