#include "edgeroof/power/controller.hpp"

#include "edgeroof/power/machine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <thread>

namespace edgeroof::power {

ModeIo::ModeIo(Root r) : root(std::move(r)) {
  write = [root = root](const std::string& path, const std::string& value) { root.write(path, value); };
  run = [](const std::vector<std::string>& argv) {
    throw ModeError("running '" + (argv.empty() ? std::string() : argv[0]) + "' is not allowed here");
  };
}

void ModeIo::do_write(const std::string& machine_path, const std::string& value) const {
  if (dry_run != nullptr) {
    *dry_run << "write " << value << " > " << machine_path << "\n";
    return;
  }
  write(machine_path, value);
}

void ModeIo::do_run(const std::vector<std::string>& argv) const {
  if (dry_run != nullptr) {
    *dry_run << "run";
    for (const auto& a : argv) *dry_run << " " << a;
    *dry_run << "\n";
    return;
  }
  run(argv);
}

void write_min_max(const ModeIo& io, const std::string& min_path, const std::string& max_path, std::int64_t min_value,
                   std::int64_t max_value) {
  const auto current_max = io.root.try_read_int(max_path);
  const bool going_up = current_max && min_value > *current_max;
  if (going_up) {
    io.do_write(max_path, std::to_string(max_value));
    io.do_write(min_path, std::to_string(min_value));
  } else {
    io.do_write(min_path, std::to_string(min_value));
    io.do_write(max_path, std::to_string(max_value));
  }
}

ClockWait wait_for_clocks(const std::function<std::vector<std::string>()>& check, const Patience& patience,
                          std::chrono::steady_clock::time_point since, const std::function<bool()>& stop) {
  using clock = std::chrono::steady_clock;
  const auto sleep = patience.sleep_s ? patience.sleep_s : std::function<void(double)>([](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  });
  const auto deadline = since + std::chrono::duration_cast<clock::duration>(
                                    std::chrono::duration<double>(std::max(0.0, patience.timeout_s)));
  // Never a busy loop, whatever the caller set.
  double poll_s = std::max(patience.first_poll_s, 1e-4);
  const double max_poll_s = std::max(patience.max_poll_s, poll_s);
  ClockWait w;
  for (;;) {
    ++w.reads;
    try {
      w.diffs = check();
    } catch (const SysfsError& e) {
      w.diffs = {e.what()};
      w.unreadable = true;
    }
    const auto now = clock::now();
    w.waited_s = std::chrono::duration<double>(now - since).count();
    if (w.diffs.empty() || w.unreadable || now >= deadline) return w;
    if (stop && stop()) {
      w.stopped = true;
      return w;
    }
    sleep(std::min(poll_s, std::chrono::duration<double>(deadline - now).count()));
    poll_s = std::min(poll_s * 2, max_poll_s);
  }
}

std::optional<std::int64_t> detail::read_clock(const Root& root, const std::string& machine_path, std::int64_t unit_hz,
                                               std::string& why) {
  const auto node = read_node(root, machine_path, 64);
  if (!node.text) {
    if (node.error == EAGAIN || node.error == EBUSY || node.error == EINTR) {
      why = "cannot read " + node.host_path + ": " + node.reason();
      return std::nullopt;
    }
    throw SysfsError("cannot read " + node.host_path + ": " + node.reason());
  }
  if (node.text->empty()) {
    why = node.host_path + " is empty";
    return std::nullopt;
  }
  const auto v = parse_int64(*node.text);
  if (!v || *v <= 0 || *v > max_clock_hz / unit_hz)
    throw SysfsError(node.host_path + " reads '" + *node.text + "', not a clock rate");
  return v;
}

void detail::check_within(std::vector<std::string>& diffs, const std::string& domain, std::int64_t value,
                          const char* unit, std::int64_t lo, std::int64_t hi) {
  if (value >= lo && value <= hi) return;
  diffs.push_back(domain + " runs at " + std::to_string(value) + " " + unit + ", the state found wants " +
                  (lo == hi  ? std::to_string(lo)
                   : lo <= 0 ? "at most " + std::to_string(hi)
                             : std::to_string(lo) + " to " + std::to_string(hi)));
}

ClockWait ModeController::await_mode(const PowerMode& mode, std::chrono::steady_clock::time_point since,
                                     const std::function<bool()>& stop) const {
  return wait_for_clocks([&] { return verify(mode); }, m_patience, since, stop);
}

void ModeController::await_restored(std::vector<std::string>& failures,
                                    const std::function<std::vector<std::string>()>& check) const {
  const auto w = wait_for_clocks(check, m_patience, std::chrono::steady_clock::now());
  if (w.diffs.empty()) return;
  char after[48];
  std::snprintf(after, sizeof(after), " after %.3g s:", m_patience.timeout_s);
  std::string text = std::string("clocks not back") + (w.unreadable ? ":" : after);
  for (const auto& d : w.diffs) text += (text.back() == ':' ? " " : ", ") + d;
  failures.push_back(text);
}

void detail::throw_restore_failures(const std::vector<std::string>& failures) {
  if (failures.empty()) return;
  std::string text = "restore incomplete:";
  for (const auto& f : failures) text += " " + f + ";";
  throw ModeError(text);
}

RestoreGuard::~RestoreGuard() {
  if (m_controller == nullptr) return;
  try {
    m_controller->restore();
  } catch (const std::exception& e) {
    // A destructor cannot throw; the user still has to know the board is not as it was.
    std::cerr << "edgeroof: could not restore the power mode: " << e.what() << "\n";
  }
}

HostController::HostController(ModeIo io, std::function<NvmlClockApi()> load_gpu, unsigned gpu_device)
    : m_io(std::move(io)), m_cpu(m_io), m_load_gpu(std::move(load_gpu)), m_gpu_device(gpu_device) {}

void HostController::apply(const PowerMode& mode) {
  if (mode.id || mode.tpc_pg_mask) throw ModeError(mode.key + ": nvpmodel modes and TPC masks exist only on a Jetson");
  PowerMode cpu_part = mode;
  cpu_part.gpu_min_hz = cpu_part.gpu_max_hz = cpu_part.emc_max_hz = std::nullopt;
  m_cpu.apply_cpu(cpu_part);
  if (!mode.gpu_min_hz && !mode.gpu_max_hz && !mode.emc_max_hz) return;
  if (!m_gpu) m_gpu = std::make_unique<NvmlController>(m_load_gpu(), m_gpu_device, m_io.dry_run);
  PowerMode gpu_part = mode;
  gpu_part.cpu_online = std::nullopt;
  gpu_part.cpu_min_khz = gpu_part.cpu_max_khz = std::nullopt;
  m_gpu->apply(gpu_part);
}

std::vector<std::string> HostController::verify(const PowerMode& mode) const {
  std::vector<std::string> diffs;
  m_cpu.verify_cpu(mode, diffs);
  if (m_gpu && (mode.gpu_max_hz || mode.emc_max_hz)) {
    PowerMode gpu_part = mode;
    gpu_part.cpu_online = std::nullopt;
    for (auto& d : m_gpu->verify(gpu_part)) diffs.push_back(std::move(d));
  }
  return diffs;
}

void HostController::restore() {
  std::vector<std::string> failures;
  m_cpu.restore_cpu(failures);
  if (m_gpu) detail::attempt(failures, [&] { m_gpu->restore(); });
  if (m_io.dry_run == nullptr) {
    await_restored(failures, [this] {
      std::vector<std::string> diffs;
      m_cpu.check_restored_cpu(diffs);
      return diffs;
    });
  }
  detail::throw_restore_failures(failures);
}

std::unique_ptr<ModeController> make_controller(ModeIo io, std::optional<NvpmodelConf> conf,
                                                std::function<NvmlClockApi()> load_gpu) {
  if (conf || find_gpu_devfreq(io.root)) return std::make_unique<JetsonController>(std::move(io), std::move(conf));
  return std::make_unique<HostController>(std::move(io), std::move(load_gpu));
}

}  // namespace edgeroof::power
