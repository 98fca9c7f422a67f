// A stand-in for libnvidia-ml.so.1 with NVML's C ABI, for the NVML sensor's tests on machines
// without an NVIDIA driver. EDGEROOF_FAKE_NVML selects what it pretends:
//   energy       a total-energy counter that grows at 50 W of steady-clock time
//   power        no energy counter (NVML_ERROR_NOT_SUPPORTED); a constant 42 W power reading
//   no-driver    nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED
//   no-clocks    neither clocks nor clock-event reasons (NVML_ERROR_NOT_SUPPORTED)
// In every other mode the SM clock is 1980 MHz and the memory clock 2619 MHz, with no clock-event
// reason, until a test changes them with edgeroof_fake_nvml_set_clocks() (found with dlsym).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int success = 0;
constexpr int not_supported = 3;
constexpr int driver_not_loaded = 9;

std::atomic<unsigned> g_sm_mhz{1980};
std::atomic<unsigned long long> g_reasons{0};

bool mode_is(const char* mode) {
  const char* m = std::getenv("EDGEROOF_FAKE_NVML");
  return m != nullptr && std::strcmp(m, mode) == 0;
}

}  // namespace

extern "C" {

int nvmlInit_v2() { return mode_is("no-driver") ? driver_not_loaded : success; }
int nvmlShutdown() { return success; }
const char* nvmlErrorString(int rc) {
  switch (rc) {
  case not_supported:
    return "Not Supported";
  case driver_not_loaded:
    return "Driver Not Loaded";
  default:
    return "Unknown Error";
  }
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  static int the_gpu;
  if (index != 0) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &the_gpu;
  return success;
}
int nvmlDeviceGetTotalEnergyConsumption(void*, unsigned long long* mJ) {
  if (!mode_is("energy")) return not_supported;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  *mJ = static_cast<unsigned long long>(s * 50.0 * 1e3);
  return success;
}
int nvmlDeviceGetPowerUsage(void*, unsigned* mW) {
  *mW = 42000;
  return success;
}
int nvmlDeviceGetClockInfo(void*, int type, unsigned* mhz) {
  if (mode_is("no-clocks")) return not_supported;
  if (type == 1) {  // NVML_CLOCK_SM
    *mhz = g_sm_mhz.load();
  } else if (type == 2) {  // NVML_CLOCK_MEM
    *mhz = 2619;
  } else {
    return not_supported;
  }
  return success;
}
int nvmlDeviceGetCurrentClocksEventReasons(void*, unsigned long long* reasons) {
  if (mode_is("no-clocks")) return not_supported;
  *reasons = g_reasons.load();
  return success;
}

void edgeroof_fake_nvml_set_clocks(unsigned sm_mhz, unsigned long long reasons) {
  g_sm_mhz = sm_mhz;
  g_reasons = reasons;
}

}  // extern "C"
