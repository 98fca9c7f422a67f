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

RestoreGuard::~RestoreGuard() {
  if (m_controller == nullptr) return;
  try {
    m_controller->restore();
  } catch (const std::exception& e) {
    // A destructor cannot throw; the user still has to know the board is not as it was.
    std::cerr << "edgeroof: could not restore the power mode: " << e.what() << "\n";
  }
}

std::unique_ptr<ModeController> make_controller(ModeIo io, std::optional<NvpmodelConf> conf) {
  if (conf || find_gpu_devfreq(io.root)) return std::make_unique<JetsonController>(std::move(io), std::move(conf));
  return std::make_unique<CpufreqController>(std::move(io));
}

}  // namespace edgeroof::power
