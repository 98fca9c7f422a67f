// Clock domains read in every benchmark window. sysfs nodes are kept open and read with pread, and
// NVML is called directly, so a tick costs a few microseconds, allocates nothing and cannot throw:
// a reading that fails or makes no sense is counted and said once when the window closes.
#include "edgeroof/power/clock_sampler.hpp"

#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/sensor_sampler.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>

namespace edgeroof::power {

std::optional<bool> ClockWindow::throttled() const {
  const bool capped = nvml_reasons && (*nvml_reasons & nvml_thermal_or_power_reasons) != 0;
  if (min_ratio) return *min_ratio < throttled_below_ratio || capped;
  if (nvml_reasons) return capped;
  return std::nullopt;
}

namespace {

// A clock at 0 Hz does no work, and none runs at max_clock_hz (machine.hpp): such a reading is garbage.
bool plausible_hz(double hz) { return hz > 0.0 && hz <= static_cast<double>(max_clock_hz); }

// The few NVML entry points used, with NVML's C ABI (nvml.h), so no header is needed to build.
struct Nvml {
  using Device = struct nvml_device_st*;
  static constexpr int clock_sm = 1;   // NVML_CLOCK_SM
  static constexpr int clock_mem = 2;  // NVML_CLOCK_MEM

  void* library = nullptr;
  Device device = nullptr;
  int (*shutdown)() = nullptr;
  int (*clock_info)(Device, int, unsigned*) = nullptr;
  // nvmlDeviceGetCurrentClocksEventReasons (R535 on), else the older ...ThrottleReasons.
  int (*reasons)(Device, unsigned long long*) = nullptr;

  Nvml(const std::string& path, unsigned index) {
    if (path.empty()) return;
    library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return;  // no NVIDIA driver: nothing to sample, nothing to say
    auto init = reinterpret_cast<int (*)()>(::dlsym(library, "nvmlInit_v2"));
    auto handle = reinterpret_cast<int (*)(unsigned, Device*)>(::dlsym(library, "nvmlDeviceGetHandleByIndex_v2"));
    shutdown = reinterpret_cast<int (*)()>(::dlsym(library, "nvmlShutdown"));
    clock_info = reinterpret_cast<int (*)(Device, int, unsigned*)>(::dlsym(library, "nvmlDeviceGetClockInfo"));
    for (const char* name : {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"}) {
      if (reasons == nullptr) reasons = reinterpret_cast<int (*)(Device, unsigned long long*)>(::dlsym(library, name));
    }
    if (init == nullptr || handle == nullptr || shutdown == nullptr || init() != 0) {
      shutdown = nullptr;
      close();
      return;
    }
    if (handle(index, &device) != 0) {
      close();
      return;
    }
  }
  ~Nvml() { close(); }
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  [[nodiscard]] bool ready() const { return device != nullptr; }
  [[nodiscard]] std::optional<double> clock_hz(int type) const {
    unsigned mhz = 0;
    if (!ready() || clock_info == nullptr || clock_info(device, type, &mhz) != 0) return std::nullopt;
    return static_cast<double>(mhz) * 1e6;
  }
  [[nodiscard]] std::optional<std::uint64_t> current_reasons() const {
    unsigned long long bits = 0;
    if (!ready() || reasons == nullptr || reasons(device, &bits) != 0) return std::nullopt;
    return static_cast<std::uint64_t>(bits);
  }

private:
  void close() {
    if (shutdown != nullptr) (void)shutdown();
    if (library != nullptr) ::dlclose(library);
    shutdown = nullptr;
    library = nullptr;
    device = nullptr;
  }
};

// A sysfs clock node and the factor that makes its value hertz (cpufreq reports kHz).
struct NodeSource {
  OpenNode node;
  double hz_per_unit;
};

// The online CPUs' scaling_cur_freq, one per frequency policy: the CPUs of a cluster share one
// clock (cpuN/cpufreq links to its policy), so reading each of them would only cost more.
std::vector<std::pair<std::string, std::string>> cpu_clock_nodes(const Root& root) {
  std::vector<std::pair<std::string, std::string>> nodes;
  const auto online = root.try_read("/sys/devices/system/cpu/online");
  if (!online) return nodes;
  std::vector<int> cpus;
  try {
    cpus = parse_cpu_list(*online);
  } catch (const std::invalid_argument&) {
    return nodes;  // an unreadable list leaves the CPU clocks unsampled
  }
  std::set<std::string> policies;
  for (int cpu : cpus) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq";
    std::error_code ec;
    const auto policy = std::filesystem::weakly_canonical(root.resolve(dir), ec);
    if (!policies.insert(ec ? dir : policy.string()).second) continue;
    nodes.emplace_back("cpu" + std::to_string(cpu), dir + "/scaling_cur_freq");
  }
  return nodes;
}

}  // namespace

struct ClockSampler::Impl {
  std::vector<ClockDomain> domains;
  std::vector<NodeSource> nodes;  // the first nodes.size() domains
  Nvml nvml;
  std::vector<int> nvml_clocks;  // NVML clock types of the domains after the nodes
  bool nvml_reasons = false;

  // Written by the ticks, read by start() and stop() while the sampler's thread is parked.
  std::vector<double> min_hz;
  std::vector<std::size_t> bad_reads;
  std::vector<bool> reported;
  std::uint64_t reasons = 0;
  bool reasons_read = false;
  std::size_t samples = 0;
  std::optional<detail::Sampler> sampler;

  Impl(const Root& root, const ClockSamplerOptions& options) : nvml(options.nvml_library, options.nvml_device) {
    std::vector<std::pair<std::string, std::string>> candidates;
    if (const auto gpu = find_gpu_devfreq(root)) candidates.emplace_back("gpu", *gpu + "/cur_freq");
    // bpmp debugfs (L4T 34 on, Orin), clk debugfs (L4T 32); both root only.
    for (const char* emc : {"/sys/kernel/debug/bpmp/debug/clk/emc/rate", "/sys/kernel/debug/clk/emc/clk_rate"}) {
      if (root.exists(emc)) {
        candidates.emplace_back("emc", emc);
        break;
      }
    }
    for (auto& cpu : cpu_clock_nodes(root)) candidates.push_back(std::move(cpu));
    for (const auto& [name, path] : candidates) add_node(root, name, path);
    add_nvml_clock("nvml.sm", Nvml::clock_sm, "nvmlDeviceGetClockInfo(NVML_CLOCK_SM)");
    add_nvml_clock("nvml.mem", Nvml::clock_mem, "nvmlDeviceGetClockInfo(NVML_CLOCK_MEM)");
    nvml_reasons = nvml.current_reasons().has_value();
    min_hz.assign(domains.size(), 0.0);
    bad_reads.assign(domains.size(), 0);
    reported.assign(domains.size(), false);
    sampler.emplace([this](double) { tick(); }, options.period_s, steady_clock());
  }

  void add_node(const Root& root, const std::string& name, const std::string& path) {
    const double hz_per_unit = name.rfind("cpu", 0) == 0 ? 1e3 : 1.0;
    try {
      NodeSource source{OpenNode(root, path), hz_per_unit};
      std::int64_t raw = 0;
      if (source.node.read_int(raw) != OpenNode::Status::ok) return;
      const double hz = static_cast<double>(raw) * hz_per_unit;
      if (!plausible_hz(hz)) return;
      domains.push_back({name, source.node.path(), hz});
      nodes.push_back(std::move(source));
    } catch (const SysfsError&) {
      // Not readable (debugfs without root): this domain is not sampled.
    }
  }

  void add_nvml_clock(const std::string& name, int type, const std::string& call) {
    const auto hz = nvml.clock_hz(type);
    if (!hz || !plausible_hz(*hz)) return;
    domains.push_back({name, call, *hz});
    nvml_clocks.push_back(type);
  }

  void take(std::size_t d, std::optional<double> hz) {
    if (hz && plausible_hz(*hz)) {
      min_hz[d] = std::isnan(min_hz[d]) ? *hz : std::min(min_hz[d], *hz);
    } else {
      ++bad_reads[d];
    }
  }

  void tick() noexcept {
    for (std::size_t d = 0; d < nodes.size(); ++d) {
      std::int64_t raw = 0;
      const bool ok = nodes[d].node.read_int(raw) == OpenNode::Status::ok;
      take(d, ok ? std::optional<double>(static_cast<double>(raw) * nodes[d].hz_per_unit) : std::nullopt);
    }
    for (std::size_t k = 0; k < nvml_clocks.size(); ++k) take(nodes.size() + k, nvml.clock_hz(nvml_clocks[k]));
    if (nvml_reasons) {
      if (const auto bits = nvml.current_reasons()) {
        reasons |= *bits;
        reasons_read = true;
      }
    }
    ++samples;
  }
};

ClockSampler::ClockSampler(const Root& root, ClockSamplerOptions options)
    : m_impl(std::make_unique<Impl>(root, options)) {}

ClockSampler::~ClockSampler() = default;

const std::vector<ClockDomain>& ClockSampler::domains() const { return m_impl->domains; }
bool ClockSampler::has_nvml_reasons() const { return m_impl->nvml_reasons; }
double ClockSampler::period_s() const { return m_impl->sampler->period_s(); }

void ClockSampler::start() {
  Impl& s = *m_impl;
  std::fill(s.min_hz.begin(), s.min_hz.end(), std::numeric_limits<double>::quiet_NaN());
  std::fill(s.bad_reads.begin(), s.bad_reads.end(), 0);
  s.reasons = 0;
  s.reasons_read = false;
  s.samples = 0;
  try {
    s.sampler->start();
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("clock sampler: ") + e.what());
  }
}

ClockWindow ClockSampler::stop() {
  Impl& s = *m_impl;
  try {
    s.sampler->stop();
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("clock sampler: ") + e.what());
  }
  ClockWindow w;
  w.min_hz = s.min_hz;
  w.samples = s.samples;
  for (std::size_t d = 0; d < s.domains.size(); ++d) {
    if (!std::isnan(s.min_hz[d])) {
      const double ratio = s.min_hz[d] / s.domains[d].start_hz;
      w.min_ratio = std::min(w.min_ratio.value_or(ratio), ratio);
    }
    if (s.bad_reads[d] > 0 && !s.reported[d]) {
      s.reported[d] = true;
      w.warnings.push_back("clock " + s.domains[d].name + ": " + std::to_string(s.bad_reads[d]) + " of " +
                           std::to_string(s.samples) + " readings of " + s.domains[d].source +
                           " failed or were no clock; the window's clocks are the other readings");
    }
  }
  if (s.reasons_read) w.nvml_reasons = s.reasons;
  return w;
}

}  // namespace edgeroof::power
