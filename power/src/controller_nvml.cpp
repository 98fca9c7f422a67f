#include "edgeroof/power/controller.hpp"

#include <dlfcn.h>

#include <memory>
#include <ostream>

namespace edgeroof::power {
namespace {

// The few NVML declarations used, written from NVML's documented C API so that no header or
// library is needed at build time.
using nvml_device = struct nvml_device_st*;
constexpr int nvml_clock_sm = 1;
constexpr int nvml_clock_mem = 2;

struct Library {
  void* handle = nullptr;
  int (*device_by_index)(unsigned, nvml_device*) = nullptr;
  int (*set_gpu)(nvml_device, unsigned, unsigned) = nullptr;
  int (*reset_gpu)(nvml_device) = nullptr;
  int (*set_mem)(nvml_device, unsigned, unsigned) = nullptr;
  int (*reset_mem)(nvml_device) = nullptr;
  int (*clock_info)(nvml_device, int, unsigned*) = nullptr;
  const char* (*error_string)(int) = nullptr;

  [[nodiscard]] nvml_device device(unsigned index) const {
    nvml_device d = nullptr;
    const int rc = device_by_index(index, &d);
    if (rc != 0) throw ModeError("nvmlDeviceGetHandleByIndex(" + std::to_string(index) + "): " + error_string(rc));
    return d;
  }
};

template <typename F>
void bind(void* handle, F& fn, const char* symbol) {
  fn = reinterpret_cast<F>(::dlsym(handle, symbol));
  if (fn == nullptr)
    throw ModeError(std::string("libnvidia-ml.so.1 has no ") + symbol + " (driver too old for locked clocks)");
}

}  // namespace

NvmlClockApi load_nvml() {
  void* handle = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw ModeError("NVML clock control needs the NVIDIA driver's libnvidia-ml.so.1: " + std::string(::dlerror()));
  }
  // The library stays loaded for the life of the process: the API table refers to it.
  auto lib = std::make_shared<Library>();
  lib->handle = handle;
  int (*init)() = nullptr;
  bind(handle, init, "nvmlInit_v2");
  bind(handle, lib->device_by_index, "nvmlDeviceGetHandleByIndex_v2");
  bind(handle, lib->set_gpu, "nvmlDeviceSetGpuLockedClocks");
  bind(handle, lib->reset_gpu, "nvmlDeviceResetGpuLockedClocks");
  bind(handle, lib->set_mem, "nvmlDeviceSetMemoryLockedClocks");
  bind(handle, lib->reset_mem, "nvmlDeviceResetMemoryLockedClocks");
  bind(handle, lib->clock_info, "nvmlDeviceGetClockInfo");
  bind(handle, lib->error_string, "nvmlErrorString");
  if (const int rc = init(); rc != 0) throw ModeError(std::string("nvmlInit: ") + lib->error_string(rc));
  NvmlClockApi api;
  api.set_gpu_locked_clocks = [lib](unsigned d, unsigned lo, unsigned hi) {
    return lib->set_gpu(lib->device(d), lo, hi);
  };
  api.reset_gpu_locked_clocks = [lib](unsigned d) { return lib->reset_gpu(lib->device(d)); };
  api.set_memory_locked_clocks = [lib](unsigned d, unsigned lo, unsigned hi) {
    return lib->set_mem(lib->device(d), lo, hi);
  };
  api.reset_memory_locked_clocks = [lib](unsigned d) { return lib->reset_mem(lib->device(d)); };
  api.current_clocks = [lib](unsigned d, unsigned& sm, unsigned& mem) {
    const auto dev = lib->device(d);
    if (const int rc = lib->clock_info(dev, nvml_clock_sm, &sm); rc != 0) return rc;
    return lib->clock_info(dev, nvml_clock_mem, &mem);
  };
  api.error_string = [lib](int rc) { return std::string(lib->error_string(rc)); };
  return api;
}

NvmlController::NvmlController(NvmlClockApi api, unsigned device, std::ostream* dry_run)
    : m_api(std::move(api)), m_device(device), m_dry_run(dry_run) {}

void NvmlController::check(int code, const std::string& call) const {
  if (code == 0) return;
  // NVML_ERROR_NO_PERMISSION (4) and NOT_SUPPORTED (3) are the usual answers without root.
  throw ModeError(call + ": " + (m_api.error_string ? m_api.error_string(code) : "NVML error " + std::to_string(code)));
}

void NvmlController::apply(const PowerMode& mode) {
  if (mode.cpu_online || mode.cpu_min_khz || mode.cpu_max_khz || mode.tpc_pg_mask || mode.id) {
    throw ModeError(mode.key + ": NVML sets GPU and memory clocks only");
  }
  const auto mhz = [](std::int64_t hz) { return static_cast<unsigned>(hz / 1000000); };
  if (mode.gpu_min_hz || mode.gpu_max_hz) {
    const unsigned hi = mhz(mode.gpu_max_hz.value_or(*mode.gpu_min_hz));
    const unsigned lo = mhz(mode.gpu_min_hz.value_or(0));
    if (m_dry_run != nullptr) {
      *m_dry_run << "nvmlDeviceSetGpuLockedClocks(" << m_device << ", " << lo << ", " << hi << ")\n";
    } else {
      m_locked_gpu = true;
      check(m_api.set_gpu_locked_clocks(m_device, lo, hi), "nvmlDeviceSetGpuLockedClocks");
    }
  }
  if (mode.emc_max_hz) {
    // Memory clocks lock to one value; NVML has no cap that leaves the range below free.
    const unsigned f = mhz(*mode.emc_max_hz);
    if (m_dry_run != nullptr) {
      *m_dry_run << "nvmlDeviceSetMemoryLockedClocks(" << m_device << ", " << f << ", " << f << ")\n";
    } else {
      m_locked_memory = true;
      check(m_api.set_memory_locked_clocks(m_device, f, f), "nvmlDeviceSetMemoryLockedClocks");
    }
  }
}

std::vector<std::string> NvmlController::verify(const PowerMode& mode) const {
  std::vector<std::string> diffs;
  unsigned sm = 0, mem = 0;
  if (const int rc = m_api.current_clocks(m_device, sm, mem); rc != 0) {
    diffs.push_back("nvmlDeviceGetClockInfo: " + m_api.error_string(rc));
    return diffs;
  }
  const auto mhz = [](std::int64_t hz) { return static_cast<unsigned>(hz / 1000000); };
  // An idle GPU may clock below its lock; above the upper bound is what cannot happen.
  if (mode.gpu_max_hz && sm > mhz(*mode.gpu_max_hz)) {
    diffs.push_back("GPU runs at " + std::to_string(sm) + " MHz, above the lock " +
                    std::to_string(mhz(*mode.gpu_max_hz)));
  }
  if (mode.emc_max_hz && mem != mhz(*mode.emc_max_hz)) {
    diffs.push_back("memory runs at " + std::to_string(mem) + " MHz, the mode locks it at " +
                    std::to_string(mhz(*mode.emc_max_hz)));
  }
  return diffs;
}

void NvmlController::restore() {
  std::vector<std::string> failures;
  if (m_locked_gpu) {
    detail::attempt(failures,
                    [&] { check(m_api.reset_gpu_locked_clocks(m_device), "nvmlDeviceResetGpuLockedClocks"); });
    m_locked_gpu = false;
  }
  if (m_locked_memory) {
    detail::attempt(failures,
                    [&] { check(m_api.reset_memory_locked_clocks(m_device), "nvmlDeviceResetMemoryLockedClocks"); });
    m_locked_memory = false;
  }
  detail::throw_restore_failures(failures);
}

PowerMode NvmlController::current() const {
  PowerMode m;
  m.key = "current";
  m.name = "current";
  unsigned sm = 0, mem = 0;
  if (m_api.current_clocks && m_api.current_clocks(m_device, sm, mem) == 0) {
    m.gpu_max_hz = static_cast<std::int64_t>(sm) * 1000000;
    m.emc_max_hz = static_cast<std::int64_t>(mem) * 1000000;
  }
  return m;
}

}  // namespace edgeroof::power
