#include "board.hpp"

#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/thermal.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace edgeroof::cli {
namespace {

namespace fs = std::filesystem;

// nvpmodel from $PATH, and only when --root is the machine itself: a fake or recorded tree must
// never change the real board's mode.
void run_nvpmodel(const std::vector<std::string>& argv) {
  const auto path = power::find_in_path(argv.at(0));
  if (!path) throw power::ModeError(argv.at(0) + " not found in PATH");
  auto resolved = argv;
  resolved[0] = *path;
  power::run_command(resolved);
}

// Idle power over half-second windows of the machine's sensor (INA3221, NVML or RAPL); without
// one, temperatures alone decide when a mode has settled.
std::function<std::optional<double>()> idle_power_reader(const power::Root& root, const std::string& who) {
  std::shared_ptr<power::EnergySensor> sensor = power::make_sensor(power::SensorKind::automatic, root);
  if (!sensor->available()) {
    std::cerr << who << ": no power sensor (" << sensor->unavailable_reason() << "); settling on temperatures only\n";
    return nullptr;
  }
  return [sensor, who]() -> std::optional<double> {
    try {
      sensor->start();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return sensor->stop().average_power_W();
    } catch (const power::SensorError& e) {
      std::cerr << who << ": idle power unreadable: " << e.what() << "\n";
      return std::nullopt;
    }
  };
}

}  // namespace

std::vector<std::string> bench_candidates() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {"edgeroof-bench"};
  const auto dir = self.parent_path();
  return {(dir / "edgeroof-bench").string(), (dir.parent_path() / "bench" / "edgeroof-bench").string()};
}

std::string default_bench() {
  const auto candidates = bench_candidates();
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return candidates.front();
}

void board_options_of(const Args& args, power::SweepOptions& options, power::Patience& patience) {
  const auto given = args.get("--bench");
  options.bench = given ? *given : default_bench();
  options.root = args.get_or("--root", "/");
  options.dry_run = args.has("--dry-run");
  if (const auto t = args.number("--settle-timeout-s")) {
    if (*t < 0) throw UsageError("--settle-timeout-s must not be negative");
    options.settle.timeout_s = *t;
  }
  if (const auto c = args.number("--settle-temp-c")) options.settle.max_temp_C = *c;
  if (const auto t = args.number("--verify-timeout-s")) {
    if (!(*t > 0 && *t <= 600)) throw UsageError("--verify-timeout-s must be above 0 and at most 600");
    patience.timeout_s = *t;
  }
  if (!options.dry_run && ::access(options.bench.c_str(), X_OK) != 0) {
    std::string where = options.bench;
    if (!given) {
      const auto candidates = bench_candidates();
      where.clear();
      for (const auto& c : candidates) where += (where.empty() ? "" : " or ") + c;
    }
    throw UsageError("edgeroof-bench not found at " + where + "; name it with --bench PATH");
  }
}

Board open_board(const Args& args, const power::SweepOptions& options, const power::Patience& patience) {
  Board board{power::Root(*options.root), std::nullopt, {}, nullptr};
  board.conf = power::find_nvpmodel_conf(board.root, args.get("--nvpmodel-conf"));
  board.tables = power::read_frequency_tables(board.root);
  const power::Root& root = board.root;
  power::ModeIo io(root);
  if (root.path() == "/") {
    io.run = run_nvpmodel;
  } else {
    io.run = [](const std::vector<std::string>&) {
      throw power::ModeError("nvpmodel runs only with --root / (it would change this machine, not the tree)");
    };
  }
  if (options.dry_run) io.dry_run = &std::cout;
  board.controller = power::make_controller(io, board.conf);
  board.controller->set_patience(patience);
  return board;
}

void add_settle_readers(const Board& board, power::SweepOptions& options, const std::string& who) {
  const power::Root root = board.root;
  options.read_temps_C = [root] { return power::read_thermal_zones_C(root); };
  if (!options.dry_run) options.read_power_W = idle_power_reader(root, who);
}

}  // namespace edgeroof::cli
