// edgeroof-bench: every roofline kernel as a Google Benchmark, with the context that explains
// its numbers. Google Benchmark's flags work as usual; edgeroof's own flags are listed by --help.
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "families.hpp"
#include "harness.hpp"
#include "layer_families.hpp"
#include "output.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: edgeroof-bench [edgeroof flags] [Google Benchmark flags]

Runs the roofline benchmarks of the backends this machine has and writes Google Benchmark
results (JSON with --benchmark_out=FILE, written atomically) with edgeroof's context.

edgeroof flags:
  --root=DIR          read sysfs and /etc under DIR instead of / (recorded or fake trees)
  --cuda-device=N     CUDA device to benchmark (default 0)
  --dram-factor=K     largest working set = K x last-level cache, at least 64 MiB (default 16)
  --sensor=KIND       energy sensor: auto (default: INA3221, else NVML, else RAPL), ina3221,
                      nvml, rapl or none; counters energy_J, power_W, energy_J.<rail>
  --idle-s=SECONDS    idle power measured before the benchmarks (default 2; 0 = skip)
  --min-sensor-updates=N  raise --benchmark_min_time so each energy window spans at least N
                      sensor updates (default 20; 0 = leave it)
  --layers=M1,M2      also benchmark every distinct layer shape of these zoo models (edgeroof model
                      --list), forward and backward: oneDNN on the CPU, cuDNN/cuBLAS on the GPU
  --layer-batch=N     batch size of the layer benchmarks (default 1)
  --layer-dtype=T     fp32 (default) or fp16 (GPU only) for the layer benchmarks
  --help              this text; --benchmark_help lists Google Benchmark's flags

Benchmark names: compute/<backend>/<dtype>/ai:<FLOP per byte>, memory/<backend>/<kernel>/bytes:<set>,
compute/cuda/<type>-tensor/gemm:<n>, layer/<backend>/<model>/<layer>/<fwd|fwd_train|bwd_data|bwd_filter|bwd_weights|bwd_a|bwd_b>/bs:<n>
(counter `instances`: layers sharing the shape). Counters: flops, bytes (per iteration), ai, FLOP/s, B/s.
Example: edgeroof-bench --benchmark_filter=memory/cpu/triad --benchmark_out=triad.json
)";

bool take_value(const char* arg, const char* flag, std::string& value) {
  const std::size_t n = std::strlen(flag);
  if (std::strncmp(arg, flag, n) == 0 && arg[n] == '=') {
    value = arg + n + 1;
    return true;
  }
  return false;
}

int parse_int(const std::string& text, const char* flag) {
  const auto v = edgeroof::power::parse_int64(text);
  if (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())
    throw std::invalid_argument(std::string(flag) + " takes a whole number, not '" + text + "'");
  return static_cast<int>(*v);
}

double parse_seconds(const std::string& text, const char* flag) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0.0) || !std::isfinite(v))
    throw std::invalid_argument(std::string(flag) + " takes seconds >= 0, not '" + text + "'");
  return v;
}

// sensor.*, idle_power_W: which sensor, which rails, and what the machine draws doing nothing.
void add_sensor_context(edgeroof::power::EnergySensor& sensor, double idle_s, int min_updates,
                        edgeroof::bench::Context& context) {
  using edgeroof::bench::format_number;
  context["sensor.name"] = sensor.name();
  if (!sensor.available()) {
    context["sensor.unavailable"] = sensor.unavailable_reason();
    return;
  }
  if (const auto period = sensor.update_period_s()) {
    context["sensor.period_s"] = format_number(*period);
    context["sensor.period_source"] = sensor.period_source();
  }
  std::string rails;
  for (const auto& rail : sensor.rails()) {
    rails += (rails.empty() ? "" : ",") + rail.name;
    context["sensor.rail." + rail.name + ".unit"] = rail.unit;
    if (!rail.inside.empty()) context["sensor.rail." + rail.name + ".inside"] = rail.inside;
  }
  context["sensor.rails"] = rails;
  context["sensor.total"] = sensor.total_description();
  if (idle_s <= 0.0) return;
  try {
    // Up to ten windows for the spread, but none shorter than --min-sensor-updates where that fits.
    int windows = 10;
    if (const auto needed_s = edgeroof::bench::min_window_s(sensor, min_updates)) {
      windows = std::max(1, std::min(10, static_cast<int>(idle_s / *needed_s)));
    }
    const auto idle = edgeroof::bench::measure_idle_power(sensor, idle_s, windows);
    if (idle.windows == 0) return;
    context["idle_power_W"] = format_number(idle.mean_W);
    if (idle.windows > 1) context["idle_power_W.stddev"] = format_number(idle.stddev_W);
    context["idle_power_W.windows"] = std::to_string(idle.windows);
    context["idle_power_W.duration_s"] = format_number(idle.duration_s);
    for (std::size_t r = 0; r < sensor.rails().size() && r < idle.rail_mean_W.size(); ++r) {
      context["idle_power_W." + sensor.rails()[r].name] = format_number(idle.rail_mean_W[r]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof-bench: warning: idle power not measured: %s\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgeroof;
  try {
    bench::Options options;
    std::vector<char*> rest{argv[0]};
    auto sensor_kind = power::SensorKind::automatic;
    double idle_s = 2.0;
    int min_sensor_updates = 20;
    double min_time_s = 0.5;      // Google Benchmark's default --benchmark_min_time
    int min_time_at = -1;         // where --benchmark_min_time is in `rest`, if given
    bool min_time_fixed = false;  // given, but not in seconds
    for (int i = 1; i < argc; ++i) {
      std::string value;
      if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
        std::fputs(usage, stdout);
        return 0;
      } else if (take_value(argv[i], "--root", value)) {
        options.root = power::Root(value);
      } else if (take_value(argv[i], "--cuda-device", value)) {
        options.cuda_device = parse_int(value, "--cuda-device");
      } else if (take_value(argv[i], "--dram-factor", value)) {
        options.dram_factor = parse_int(value, "--dram-factor");
        if (options.dram_factor < 1) throw std::invalid_argument("--dram-factor must be at least 1");
      } else if (take_value(argv[i], "--sensor", value)) {
        sensor_kind = power::parse_sensor_kind(value);
      } else if (take_value(argv[i], "--idle-s", value)) {
        idle_s = parse_seconds(value, "--idle-s");
      } else if (take_value(argv[i], "--min-sensor-updates", value)) {
        min_sensor_updates = parse_int(value, "--min-sensor-updates");
        if (min_sensor_updates < 0) throw std::invalid_argument("--min-sensor-updates must be >= 0");
      } else if (take_value(argv[i], "--layers", value)) {
        options.layer_models.clear();
        for (std::size_t at = 0; at <= value.size();) {
          const std::size_t comma = std::min(value.find(',', at), value.size());
          if (comma > at) options.layer_models.push_back(value.substr(at, comma - at));
          at = comma + 1;
        }
      } else if (take_value(argv[i], "--layer-batch", value)) {
        options.layer_batch = parse_int(value, "--layer-batch");
        if (options.layer_batch < 1) throw std::invalid_argument("--layer-batch must be at least 1");
      } else if (take_value(argv[i], "--layer-dtype", value)) {
        if (value != "fp32" && value != "fp16")
          throw std::invalid_argument("--layer-dtype takes fp32 or fp16, not '" + value + "'");
        options.layer_dtype = value;
      } else {
        if (take_value(argv[i], "--benchmark_min_time", value)) {
          // Seconds: "2", or "2s" in newer Google Benchmark. An iteration count ("100x") is left
          // as it is, and so is anything else Google Benchmark will judge for itself.
          std::string seconds = value;
          if (!seconds.empty() && seconds.back() == 's') seconds.pop_back();
          char* end = nullptr;
          const double v = std::strtod(seconds.c_str(), &end);
          if (!seconds.empty() && *end == '\0' && v >= 0.0 && std::isfinite(v)) {
            min_time_s = v;
            min_time_at = static_cast<int>(rest.size());
          } else {
            min_time_fixed = true;
          }
        }
        rest.push_back(argv[i]);
      }
    }

    // The sensor is chosen before Google Benchmark reads its flags, so the minimum time can be
    // raised to span enough sensor updates (a window of a few updates gives 0 J or noise).
    power::SensorOptions sensor_options;
    sensor_options.nvml_device = static_cast<unsigned>(options.cuda_device);
    const auto sensor = power::make_sensor(sensor_kind, options.root, sensor_options);
    if (!sensor->available() && sensor_kind != power::SensorKind::none) {
      std::fprintf(stderr, "edgeroof-bench: no energy counters: %s\n", sensor->unavailable_reason().c_str());
    }
    bench::set_energy_sensor(sensor->available() ? sensor.get() : nullptr);
    std::string min_time_arg;
    if (sensor->available() && min_sensor_updates > 0 && min_time_fixed) {
      std::fprintf(stderr,
                   "edgeroof-bench: warning: --benchmark_min_time is not in seconds, so energy windows are not raised "
                   "to span %d sensor updates; check sensor_updates\n",
                   min_sensor_updates);
    } else if (sensor->available() && min_sensor_updates > 0) {
      if (const auto needed_s = bench::min_window_s(*sensor, min_sensor_updates)) {
        if (*needed_s > min_time_s) {
          std::fprintf(stderr,
                       "edgeroof-bench: --benchmark_min_time raised from %g to %g s so each energy window spans >= %d "
                       "updates of %s\n",
                       min_time_s, *needed_s, min_sensor_updates, sensor->name().c_str());
          min_time_arg = "--benchmark_min_time=" + std::to_string(*needed_s);
          if (min_time_at >= 0)
            rest[static_cast<std::size_t>(min_time_at)] = min_time_arg.data();
          else
            rest.push_back(min_time_arg.data());
        }
      } else {
        std::fprintf(stderr,
                     "edgeroof-bench: warning: the update period of %s is unknown, so windows cannot be made to span "
                     "%d updates; check sensor_updates\n",
                     sensor->name().c_str(), min_sensor_updates);
      }
    }
    bench::Output output(rest);
    int rest_argc = static_cast<int>(rest.size());
    benchmark::Initialize(&rest_argc, rest.data());
    if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;

    bench::Context context;
    bench::register_cpu_families(options, context);
    const bool cuda = bench::register_cuda_families(options, context);
    if (!cuda) std::fprintf(stderr, "edgeroof-bench: CUDA families skipped: %s\n", context["cuda.skipped"].c_str());
    bench::register_layer_families(options, context, cuda);
    context["edgeroof.version"] = EDGEROOF_VERSION;
    context["device.backend"] = cuda ? "cuda,cpu" : "cpu";
    if (!cuda && context.count("cpu.model")) context["device.name"] = context["cpu.model"];
    if (const auto l4t = power::read_l4t_release(options.root)) context["l4t.release"] = *l4t;
    for (const auto& [key, value] : power::read_current_clocks(options.root))
      context["clocks.start." + key] = std::to_string(value);
    add_sensor_context(*sensor, idle_s, min_sensor_updates, context);
    for (const auto& [key, value] : context) benchmark::AddCustomContext(key, value);

    const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (ran == 0) {
      std::fprintf(stderr, "edgeroof-bench: error: no benchmark matched the filter; nothing written\n");
      return 1;
    }

    bench::Context end;
    for (const auto& [key, value] : power::read_current_clocks(options.root))
      end["clocks.end." + key] = std::to_string(value);
    output.finish(end);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof-bench: error: %s\n", e.what());
    return 1;
  }
}
