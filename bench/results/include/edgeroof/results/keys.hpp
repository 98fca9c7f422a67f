// Counter names and context keys of the results contract (README.md, "Contracts"). edgeroof-bench
// writes them, `edgeroof sweep` adds the power mode's through --benchmark_context, and every report
// reads them under these names. Units are in the names.
#pragma once

#include <string>
#include <string_view>

namespace edgeroof::results {

// ---- counters (per iteration unless a rate) ----------------------------------------------------
namespace counters {
inline constexpr const char* flops = "flops";
inline constexpr const char* bytes = "bytes";
inline constexpr const char* ai = "ai";             // flops / bytes
inline constexpr const char* flop_rate = "FLOP/s";  // rates: per second of the benchmark's time
inline constexpr const char* byte_rate = "B/s";
// With a sensor: joules per iteration, average watts over the window, joules per rail.
inline constexpr const char* energy_J = "energy_J";
inline constexpr const char* power_W = "power_W";
inline constexpr const char* rail_energy_prefix = "energy_J.";
inline constexpr const char* sensor_updates = "sensor_updates";  // sensor updates the window spanned
// With clocks: lowest clock of the window over its clock at the start; 1 when the clocks fell.
inline constexpr const char* clock_min_ratio = "clock_min_ratio";
inline constexpr const char* throttled = "throttled";
// CPU families: threads of the pool ("threads" is Google Benchmark's own field).
inline constexpr const char* pool_threads = "pool_threads";
inline constexpr const char* working_set_bytes = "working_set_bytes";  // memory families
inline constexpr const char* instances = "instances";                  // layer families: layers sharing the shape
// Model families: the share of the workload's analytic FLOPs that ran on real kernels (1 when
// every layer did), and the layer instances run in one iteration.
inline constexpr const char* coverage = "coverage";
inline constexpr const char* layers = "layers";

// "energy_J.<rail>".
[[nodiscard]] inline std::string rail_energy(std::string_view rail) {
  return std::string(rail_energy_prefix) + std::string(rail);
}
// Counters that cannot be negative, so the reader refuses a negative one: the work, its rates, the
// energy (total and per rail), power, the clock figures and a model's coverage (a share: the reader
// also refuses one above 1) and layers.
[[nodiscard]] bool is_non_negative(std::string_view counter);
}  // namespace counters

// ---- context keys ----------------------------------------------------------------------------
// Unknown is written as absent, never as a made-up value.
namespace context {
inline constexpr const char* edgeroof_version = "edgeroof.version";
inline constexpr const char* device_name = "device.name";
inline constexpr const char* device_backend = "device.backend";  // "cuda,cpu" or "cpu"
inline constexpr const char* device_l2_bytes = "device.l2_bytes";
inline constexpr const char* device_global_bytes = "device.global_bytes";
inline constexpr const char* l4t_release = "l4t.release";
inline constexpr const char* cuda_runtime = "cuda.runtime";
inline constexpr const char* cuda_skipped = "cuda.skipped";  // why there are no CUDA families
inline constexpr const char* cudnn_version = "cudnn.version";
inline constexpr const char* onednn_version = "onednn.version";
inline constexpr const char* cpu_model = "cpu.model";
// The power mode, written by `edgeroof sweep`; key names the mode in rooflines.json.
inline constexpr const char* power_mode_key = "power_mode.key";
inline constexpr const char* power_mode_name = "power_mode.name";
inline constexpr const char* power_mode_id = "power_mode.id";
inline constexpr const char* power_mode_gpu_hz = "power_mode.gpu_hz";
inline constexpr const char* power_mode_emc_hz = "power_mode.emc_hz";
inline constexpr const char* power_mode_cpu_khz = "power_mode.cpu_khz";
inline constexpr const char* power_mode_cpu_online = "power_mode.cpu_online";
inline constexpr const char* power_mode_tpc_pg_mask = "power_mode.tpc_pg_mask";
inline constexpr const char* power_mode_idle_power_W = "power_mode.idle_power_W";  // measured as it settled
// The sensor and what the machine draws doing nothing (idle_power_W.<rail>, .stddev, ...).
inline constexpr const char* sensor_name = "sensor.name";
inline constexpr const char* sensor_unavailable = "sensor.unavailable";
inline constexpr const char* sensor_period_s = "sensor.period_s";
inline constexpr const char* sensor_period_source = "sensor.period_source";
inline constexpr const char* sensor_rails = "sensor.rails";
inline constexpr const char* sensor_total = "sensor.total";
inline constexpr const char* idle_power_W = "idle_power_W";
// Clocks: which were sampled, how often, and their values as the run started and ended
// (clocks.start.<domain>, clocks.end.<domain>).
inline constexpr const char* clocks_sampled = "clocks.sampled";
inline constexpr const char* clocks_period_s = "clocks.period_s";
inline constexpr const char* clocks_start_prefix = "clocks.start.";
inline constexpr const char* clocks_end_prefix = "clocks.end.";
}  // namespace context

}  // namespace edgeroof::results
