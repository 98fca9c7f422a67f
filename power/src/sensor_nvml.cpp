// NVIDIA GPUs through NVML, loaded at run time from libnvidia-ml.so.1 so that edgeroof builds and
// runs without the driver. The total-energy counter (mJ, Volta and newer) is read at the window's
// edges where the GPU has it; otherwise the power reading (mW) is sampled and integrated.
#include "edgeroof/power/sensor_sampler.hpp"

#include <dlfcn.h>

#include <limits>
#include <optional>
#include <string>

namespace edgeroof::power {

namespace {

// The few NVML types and entry points used, with NVML's ABI (nvml.h): results are ints, a device
// is an opaque pointer.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t nvml_success = 0;

// Members carry the names of NVML's entry points, so an error names the call that failed.
struct NvmlApi {
  nvmlReturn_t (*nvmlInit_v2)() = nullptr;
  nvmlReturn_t (*nvmlShutdown)() = nullptr;
  const char* (*nvmlErrorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetHandleByIndex_v2)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetPowerUsage)(nvmlDevice_t, unsigned*) = nullptr;
};

// One checking macro for NVML: a failed call becomes a SensorError naming the call and the place.
#define EDGEROOF_NVML_CHECK(api, call)                                                                         \
  do {                                                                                                         \
    const nvmlReturn_t edgeroof_nvml_rc = (call);                                                              \
    if (edgeroof_nvml_rc != nvml_success) {                                                                    \
      throw SensorError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #call " failed: " +      \
                        ((api).nvmlErrorString ? (api).nvmlErrorString(edgeroof_nvml_rc)                       \
                                               : ("NVML error " + std::to_string(edgeroof_nvml_rc)).c_str())); \
    }                                                                                                          \
  } while (0)

// Where the counter is missing the power reading is sampled; NVML refreshes it every few tens of
// milliseconds at best, so a faster poll would only repeat values.
constexpr double fallback_sample_period_s = 0.02;
constexpr double poll_period_s = 0.25;

class NvmlSensor final : public EnergySensor {
public:
  explicit NvmlSensor(const SensorOptions& options) : EnergySensor("nvml") {
    m_library = ::dlopen(options.nvml_library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m_library == nullptr) {
      const char* why = ::dlerror();
      set_unavailable("cannot load " + options.nvml_library + " (no NVIDIA driver?): " + (why ? why : "unknown"));
      return;
    }
    std::string missing;
    auto bind = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(m_library, symbol));
      if (fn == nullptr) missing += std::string(missing.empty() ? "" : ", ") + symbol;
    };
    bind(m_api.nvmlInit_v2, "nvmlInit_v2");
    bind(m_api.nvmlShutdown, "nvmlShutdown");
    bind(m_api.nvmlErrorString, "nvmlErrorString");
    bind(m_api.nvmlDeviceGetHandleByIndex_v2, "nvmlDeviceGetHandleByIndex_v2");
    bind(m_api.nvmlDeviceGetTotalEnergyConsumption, "nvmlDeviceGetTotalEnergyConsumption");
    bind(m_api.nvmlDeviceGetPowerUsage, "nvmlDeviceGetPowerUsage");
    if (!missing.empty()) {
      set_unavailable(options.nvml_library + " lacks " + missing);
      return;
    }
    try {
      EDGEROOF_NVML_CHECK(m_api, m_api.nvmlInit_v2());
      m_initialised = true;
      EDGEROOF_NVML_CHECK(m_api, m_api.nvmlDeviceGetHandleByIndex_v2(options.nvml_device, &m_device));
    } catch (const SensorError& e) {
      set_unavailable(e.what());
      return;
    }
    const std::string rail_name =
        "gpu" + (options.nvml_device == 0 ? std::string() : std::to_string(options.nvml_device));
    unsigned long long energy_mJ = 0;
    unsigned power_mW = 0;
    if (m_api.nvmlDeviceGetTotalEnergyConsumption(m_device, &energy_mJ) == nvml_success) {
      set_rails({Rail{rail_name, "mJ", false, ""}});
      set_period(detail::measure_update_period_s([&] { return static_cast<double>(energy_mJ_now()); }, options.clock,
                                                 options.period_probe_s),
                 "measured");
      m_counter.emplace(
          std::vector<std::uint64_t>{0}, 1e-3, [this](std::vector<std::uint64_t>& raw) { raw[0] = energy_mJ_now(); },
          poll_period_s, options.clock);
    } else if (const nvmlReturn_t rc = m_api.nvmlDeviceGetPowerUsage(m_device, &power_mW); rc == nvml_success) {
      set_rails({Rail{rail_name, "mW", false, ""}});
      set_period(detail::measure_update_period_s([&] { return power_W_now(); }, options.clock, options.period_probe_s),
                 "measured");
      m_power.emplace(
          1, [this](std::vector<double>& p) { p[0] = power_W_now(); },
          update_period_s().value_or(fallback_sample_period_s), options.clock);
    } else {
      set_unavailable(std::string("GPU has neither an energy counter nor a power reading: ") +
                      m_api.nvmlErrorString(rc));
    }
  }

  ~NvmlSensor() override {
    m_counter.reset();
    m_power.reset();
    if (m_initialised) (void)m_api.nvmlShutdown();
    if (m_library != nullptr) ::dlclose(m_library);
  }

private:
  std::uint64_t energy_mJ_now() const {
    unsigned long long mJ = 0;
    EDGEROOF_NVML_CHECK(m_api, m_api.nvmlDeviceGetTotalEnergyConsumption(m_device, &mJ));
    return static_cast<std::uint64_t>(mJ);
  }
  // NaN for a reading beyond any GPU (a driver's all-ones error value), said once.
  double power_W_now() {
    unsigned mW = 0;
    EDGEROOF_NVML_CHECK(m_api, m_api.nvmlDeviceGetPowerUsage(m_device, &mW));
    const double W = static_cast<double>(mW) * 1e-3;
    if (W <= max_rail_power_W) return W;
    if (!m_reported) {
      m_reported = true;
      m_pending.push_back("nvmlDeviceGetPowerUsage reads " + std::to_string(mW) +
                          " mW, beyond any GPU: its energy is not reported for windows with such readings");
    }
    return std::numeric_limits<double>::quiet_NaN();
  }

  void do_start() override {
    if (m_counter)
      m_counter->start();
    else
      m_power->start();
  }
  WindowEnergy do_stop() override {
    if (m_counter) return m_counter->stop();
    WindowEnergy w = m_power->stop();
    w.warnings = std::move(m_pending);  // the sampler's thread is parked now
    m_pending.clear();
    return w;
  }

  void* m_library = nullptr;
  NvmlApi m_api;
  bool m_initialised = false;
  nvmlDevice_t m_device = nullptr;
  std::optional<detail::CounterWindow> m_counter;
  std::optional<detail::PowerWindow> m_power;
  bool m_reported = false;
  std::vector<std::string> m_pending;
};

}  // namespace

std::unique_ptr<EnergySensor> make_nvml_sensor(const SensorOptions& options) {
  return std::make_unique<NvmlSensor>(options);
}

}  // namespace edgeroof::power
