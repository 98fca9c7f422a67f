// Power-mode control behind one interface: a controller saves the state it finds, applies modes,
// verifies them by reading the clocks back, and restores what it found. One implementation per
// kind of machine: Jetson (nvpmodel + sysfs), cpufreq (plain Linux CPUs), NVML (locked clocks).
#pragma once

#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace edgeroof::power {

// How a controller touches the machine. Every write and every command goes through here, so a dry
// run prints them, and tests substitute a driver that refuses or checks the order of writes.
struct ModeIo {
  Root root;
  // Writes a value to a known node; default: root.write. Throws SysfsError when refused.
  std::function<void(const std::string& machine_path, const std::string& value)> write;
  // Runs a command from an argv vector (never a shell string), e.g. {"nvpmodel", "-m", "0"};
  // throws ModeError when it fails. Default: refuses, so nothing runs that was not asked for.
  std::function<void(const std::vector<std::string>& argv)> run;
  // When set, writes and commands are printed here instead of done.
  std::ostream* dry_run = nullptr;

  explicit ModeIo(Root r = Root("/"));
  void do_write(const std::string& machine_path, const std::string& value) const;
  void do_run(const std::vector<std::string>& argv) const;
};

// Pins or bounds a frequency through its min and max nodes, in the order the driver accepts: max
// before min when the new range lies above the current one, min before max otherwise, so min never
// exceeds max in between.
void write_min_max(const ModeIo& io, const std::string& min_path, const std::string& max_path, std::int64_t min_value,
                   std::int64_t max_value);

// How long and how often the clocks are read back after a change. A write takes effect late: about
// 1, 5 and 8 ms for CPU, GPU and EMC on an idle Orin, far more under load or at a thermal limit.
struct Patience {
  double timeout_s = 2.0;
  double first_poll_s = 0.001;          // the sleep between two reads starts here and doubles ...
  double max_poll_s = 0.05;             // ... up to this, so a slow clock costs few reads
  std::function<void(double)> sleep_s;  // default: sleeps
};

// What reading the clocks until they matched found.
struct ClockWait {
  std::vector<std::string> diffs;  // what still differed at the last read; empty when they matched
  double waited_s = 0.0;           // from `since` to the last read
  int reads = 0;
  bool stopped = false;     // stop() turned true first
  bool unreadable = false;  // a node could not be read at all (the one difference says which)
};

// Calls `check` until it returns no differences, the timeout counted from `since` has passed, or
// stop() turns true, sleeping in between. A SysfsError from `check` is a node that waiting will
// not make readable (missing, not permitted, junk): it ends the wait at once, as the one difference.
[[nodiscard]] ClockWait wait_for_clocks(const std::function<std::vector<std::string>()>& check,
                                        const Patience& patience, std::chrono::steady_clock::time_point since,
                                        const std::function<bool()>& stop = nullptr);

namespace detail {
// The rate in a clock node (cur_freq, scaling_cur_freq, the EMC rate), in the node's unit
// (`unit_hz` = 1000 for kHz). nullopt with `why` set while the driver is mid-change: an empty file,
// EAGAIN or EBUSY, worth reading again. Throws SysfsError naming the node for anything else: missing,
// not permitted, not a whole number from 1 Hz to max_clock_hz.
std::optional<std::int64_t> read_clock(const Root& root, const std::string& machine_path, std::int64_t unit_hz,
                                       std::string& why);
// "cpu3 runs at 1036800 kHz, the state found wants 268800 to 2201600" when `value` is outside
// [lo, hi] (appended to diffs); the clocks restore() waits for.
void check_within(std::vector<std::string>& diffs, const std::string& domain, std::int64_t value, const char* unit,
                  std::int64_t lo, std::int64_t hi);
// Restoring tries every node: a failure is collected, and reported once all were tried.
template <typename Action>
void attempt(std::vector<std::string>& failures, const Action& action) {
  try {
    action();
  } catch (const std::exception& e) {
    failures.push_back(e.what());
  }
}
// Throws one ModeError listing the failures; returns when there are none.
void throw_restore_failures(const std::vector<std::string>& failures);
}  // namespace detail

class ModeController {
public:
  virtual ~ModeController() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  // Records the state restore() brings back. Called once, before the first apply().
  virtual void save() = 0;
  // Throws ModeError (what cannot be done here) or SysfsError (a write the machine refused).
  virtual void apply(const PowerMode& mode) = 0;
  // Reads the clocks back once: one line per difference, empty when the mode is in effect. A clock
  // node mid-change (empty, EAGAIN, EBUSY) is a difference naming the node; one that cannot be read
  // at all throws SysfsError.
  [[nodiscard]] virtual std::vector<std::string> verify(const PowerMode& mode) const = 0;
  // Brings back the saved state, then waits (patience()) until the clocks are back within the limits
  // found; tries every node and throws one ModeError listing the failures and the clocks not back.
  virtual void restore() = 0;
  // The mode in effect as far as it can be read (key "current").
  [[nodiscard]] virtual PowerMode current() const = 0;

  // How long await_mode() and restore() wait for the clocks to follow the writes.
  void set_patience(Patience p) { m_patience = std::move(p); }
  [[nodiscard]] const Patience& patience() const { return m_patience; }
  // Reads the clocks back (verify()) until the mode is in effect, the patience runs out or stop()
  // turns true. `since` is when apply() began, so waited_s is how long the clocks took to follow.
  [[nodiscard]] ClockWait await_mode(const PowerMode& mode, std::chrono::steady_clock::time_point since,
                                     const std::function<bool()>& stop = nullptr) const;

protected:
  // After restore's writes: waits until `check` (the clocks of the state found) finds no difference,
  // and adds one failure saying what did not come back in time.
  void await_restored(std::vector<std::string>& failures, const std::function<std::vector<std::string>()>& check) const;

private:
  Patience m_patience;
};

// Restores on scope exit unless dismissed, for the exception paths; the main flow calls restore()
// itself so that its errors are reported.
class RestoreGuard {
public:
  explicit RestoreGuard(ModeController& c) : m_controller(&c) {}
  ~RestoreGuard();
  RestoreGuard(const RestoreGuard&) = delete;
  RestoreGuard& operator=(const RestoreGuard&) = delete;
  void dismiss() { m_controller = nullptr; }

private:
  ModeController* m_controller;
};

// CPUs online and cpufreq limits, for any Linux machine (and the CPU part of a Jetson).
class CpufreqController : public ModeController {
public:
  explicit CpufreqController(ModeIo io);
  [[nodiscard]] std::string name() const override { return "cpufreq"; }
  void save() override;
  void apply(const PowerMode& mode) override;  // refuses GPU and EMC settings
  [[nodiscard]] std::vector<std::string> verify(const PowerMode& mode) const override;
  void restore() override;
  [[nodiscard]] PowerMode current() const override;

  // The CPU part alone, for controllers that own the rest of the machine.
  void apply_cpu(const PowerMode& mode);
  void verify_cpu(const PowerMode& mode, std::vector<std::string>& diffs) const;
  void restore_cpu(std::vector<std::string>& failures);
  // Where the clocks of the online CPUs are not yet back within the limits found at save().
  void check_restored_cpu(std::vector<std::string>& diffs) const;
  [[nodiscard]] int cpu_count() const { return m_cpu_count; }

private:
  struct CpuState {
    std::optional<std::string> online;  // "0"/"1"; nullopt where the CPU has no online node (cpu0)
    std::optional<std::int64_t> min_khz, max_khz;
  };
  [[nodiscard]] bool is_online(int cpu) const;
  ModeIo m_io;
  int m_cpu_count = 0;
  std::vector<CpuState> m_saved;
};

// A Jetson: predefined modes with `nvpmodel -m ID`, custom modes by writing the CPU, GPU devfreq,
// TPC mask and EMC cap nodes (named by nvpmodel.conf where it has them, else the L4T defaults).
class JetsonController : public ModeController {
public:
  JetsonController(ModeIo io, std::optional<NvpmodelConf> conf);
  [[nodiscard]] std::string name() const override { return "jetson"; }
  void save() override;
  void apply(const PowerMode& mode) override;
  [[nodiscard]] std::vector<std::string> verify(const PowerMode& mode) const override;
  void restore() override;
  [[nodiscard]] PowerMode current() const override;

  [[nodiscard]] const std::optional<std::string>& gpu_devfreq() const { return m_gpu; }
  [[nodiscard]] const std::optional<std::string>& emc_cap_node() const { return m_emc_cap; }
  [[nodiscard]] const std::optional<std::string>& tpc_mask_node() const { return m_tpc_mask; }
  // The nvpmodel mode the board was in at save(), from /var/lib/nvpmodel/status.
  [[nodiscard]] std::optional<int> saved_nvpmodel_id() const { return m_saved_id; }

private:
  void check_restored(std::vector<std::string>& diffs) const;
  // The EMC rate from debugfs; nullopt where there is none to read (a transient failure adds a diff).
  [[nodiscard]] std::optional<std::int64_t> emc_rate(std::vector<std::string>& diffs) const;
  ModeIo m_io;
  std::optional<NvpmodelConf> m_conf;
  CpufreqController m_cpu;
  FrequencyTables m_tables;
  std::optional<std::string> m_gpu;       // devfreq directory
  std::optional<std::string> m_emc_cap;   // Hz
  std::optional<std::string> m_emc_rate;  // Hz, debugfs
  std::optional<std::string> m_tpc_mask;
  bool m_ran_nvpmodel = false;
  bool m_saved = false;
  std::optional<int> m_saved_id;
  std::optional<std::int64_t> m_saved_gpu_min, m_saved_gpu_max, m_saved_emc_cap, m_saved_tpc_mask;
};

// The functions of libnvidia-ml the NVML controller calls, as a table so that tests pass a fake and
// the machine's library is loaded with dlopen at run time (no build-time dependency).
struct NvmlClockApi {
  // Each returns an nvmlReturn_t (0 = success); `device` is the index given to the controller.
  std::function<int(unsigned device, unsigned min_mhz, unsigned max_mhz)> set_gpu_locked_clocks;
  std::function<int(unsigned device)> reset_gpu_locked_clocks;
  std::function<int(unsigned device, unsigned min_mhz, unsigned max_mhz)> set_memory_locked_clocks;
  std::function<int(unsigned device)> reset_memory_locked_clocks;
  std::function<int(unsigned device, unsigned& sm_mhz, unsigned& mem_mhz)> current_clocks;
  std::function<std::string(int code)> error_string;
};

// Loads libnvidia-ml.so.1; throws ModeError saying why when it is not there.
[[nodiscard]] NvmlClockApi load_nvml();

// A desktop or datacenter GPU: GPU (and memory) clocks locked with NVML, where the driver permits
// (root, or an administrator's `nvidia-smi -acp UNRESTRICTED`). NVML cannot read the locks back, so
// restore() resets them, which is the state a GPU is in unless someone locked it before.
class NvmlController : public ModeController {
public:
  NvmlController(NvmlClockApi api, unsigned device, std::ostream* dry_run = nullptr);
  [[nodiscard]] std::string name() const override { return "nvml"; }
  void save() override {}
  void apply(const PowerMode& mode) override;  // gpu_* and emc_max_hz; refuses CPU settings
  [[nodiscard]] std::vector<std::string> verify(const PowerMode& mode) const override;
  void restore() override;
  [[nodiscard]] PowerMode current() const override;

private:
  void check(int code, const std::string& call) const;
  NvmlClockApi m_api;
  unsigned m_device;
  std::ostream* m_dry_run;
  bool m_locked_gpu = false;
  bool m_locked_memory = false;
};

// Any other machine: CPUs through cpufreq, and GPU/memory clocks of an NVIDIA GPU through NVML,
// loaded (by `load_gpu`) only when a mode sets them.
class HostController : public ModeController {
public:
  HostController(ModeIo io, std::function<NvmlClockApi()> load_gpu, unsigned gpu_device = 0);
  [[nodiscard]] std::string name() const override { return "cpufreq+nvml"; }
  void save() override { m_cpu.save(); }
  void apply(const PowerMode& mode) override;
  [[nodiscard]] std::vector<std::string> verify(const PowerMode& mode) const override;
  void restore() override;
  [[nodiscard]] PowerMode current() const override { return m_cpu.current(); }

private:
  ModeIo m_io;
  CpufreqController m_cpu;
  std::function<NvmlClockApi()> m_load_gpu;
  unsigned m_gpu_device;
  std::unique_ptr<NvmlController> m_gpu;
};

// The controller for the machine under io.root: Jetson when it has a GPU devfreq node or an
// nvpmodel.conf, HostController otherwise. `conf` is the parsed nvpmodel.conf, if any.
[[nodiscard]] std::unique_ptr<ModeController> make_controller(ModeIo io, std::optional<NvpmodelConf> conf,
                                                              std::function<NvmlClockApi()> load_gpu = load_nvml);

}  // namespace edgeroof::power
