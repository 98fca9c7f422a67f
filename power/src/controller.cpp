#include "edgeroof/power/controller.hpp"

#include "edgeroof/power/machine.hpp"

#include <iostream>

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
  detail::throw_restore_failures(failures);
}

std::unique_ptr<ModeController> make_controller(ModeIo io, std::optional<NvpmodelConf> conf,
                                                std::function<NvmlClockApi()> load_gpu) {
  if (conf || find_gpu_devfreq(io.root)) return std::make_unique<JetsonController>(std::move(io), std::move(conf));
  return std::make_unique<HostController>(std::move(io), std::move(load_gpu));
}

}  // namespace edgeroof::power
