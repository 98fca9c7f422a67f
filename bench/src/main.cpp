// edgeroof-bench: every roofline kernel as a Google Benchmark, with the context that explains
// its numbers. Google Benchmark's flags work as usual; edgeroof's own flags are listed by --help.
#include "cpu_check.hpp"
#include "edgeroof/config.hpp"
#include "edgeroof/kernels/cpu.hpp"
#include "edgeroof/power/clock_sampler.hpp"
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"
#include "families.hpp"
#include "harness.hpp"
#include "layer_families.hpp"
#include "model_families.hpp"
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
#include <stdexcept>
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
  --clock-period-s=S  read the GPU, CPU, EMC (and NVML) clocks every S seconds in each benchmark
                      (default 0.02; 0 = off); counters clock_min_ratio (lowest clock / its clock
                      at the start of the run) and throttled (0/1, label token "throttled")
  --layers=M1,M2      also benchmark every distinct layer shape of these zoo models (edgeroof model
                      --list), forward and backward: oneDNN on the CPU, cuDNN/cuBLAS on the GPU
  --layer-batch=N     batch size of the layer benchmarks (default 1)
  --layer-dtype=T     fp32 (default) or fp16 (GPU only) for the layer benchmarks
  --models=M1,M2      also benchmark these zoo models whole: one iteration = one inference or one
                      training step (optimizer update included), every layer on its own kernel
                      with its own weights, in the workload's order
  --model-batch=N     batch size of the model benchmarks (default 1)
  --model-phase=P1,P2 inference (default), train_sgd, train_adam, or several comma-separated
  --model-dtype=T     fp32 (default) or fp16 (GPU only) for the model benchmarks
  --help              this text; --benchmark_help lists Google Benchmark's flags

Benchmark names: compute/<backend>/<dtype>/ai:<FLOP per byte>, memory/<backend>/<kernel>/bytes:<set>,
compute/cuda/<type>-tensor/gemm:<n>, layer/<backend>/<model>/<layer>/<fwd|fwd_train|bwd_data|bwd_filter|bwd_weights|bwd_a|bwd_b>/bs:<n>
(counter `instances`: layers sharing the shape), model/<backend>/<model>/<inference|train_sgd|train_adam>/bs:<n>
(counters `coverage`: share of the workload's FLOPs run on real kernels, `layers`: layer instances run; layers
without a kernel are listed in the label and in the context, models.<backend>.<model>.<phase>.uncovered).
Counters: flops, bytes (per iteration; a model's: its whole workload), ai, FLOP/s, B/s, clock_min_ratio and
throttled where clocks can be read.
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

using edgeroof::bench::UsageError;
namespace keys = edgeroof::results::context;

int parse_int(const std::string& text, const char* flag) {
  const auto v = edgeroof::power::parse_int64(text);
  if (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())
    throw UsageError(std::string(flag) + " takes a whole number, not '" + text + "'");
  return static_cast<int>(*v);
}

double parse_seconds(const std::string& text, const char* flag) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0.0) || !std::isfinite(v))
    throw UsageError(std::string(flag) + " takes seconds >= 0, not '" + text + "'");
  return v;
}

// The command line: edgeroof's flags taken out, Google Benchmark's left in `rest` for it.
struct Flags {
  edgeroof::bench::Options options;
  std::vector<char*> rest;
  edgeroof::power::SensorKind sensor_kind = edgeroof::power::SensorKind::automatic;
  double idle_s = 2.0;
  int min_sensor_updates = 20;
  double clock_period_s = 0.02;
  double min_time_s = 0.5;      // Google Benchmark's default --benchmark_min_time
  int min_time_at = -1;         // where --benchmark_min_time is in `rest`, if given
  bool min_time_fixed = false;  // given, but not in seconds
  bool help = false;
};

void take_min_time(const std::string& value, Flags& flags) {
  // Seconds: "2", or "2s" in newer Google Benchmark. An iteration count ("100x") is left as it
  // is, and so is anything else Google Benchmark will judge for itself.
  std::string seconds = value;
  if (!seconds.empty() && seconds.back() == 's') seconds.pop_back();
  char* end = nullptr;
  const double v = std::strtod(seconds.c_str(), &end);
  if (!seconds.empty() && *end == '\0' && v >= 0.0 && std::isfinite(v)) {
    flags.min_time_s = v;
    flags.min_time_at = static_cast<int>(flags.rest.size());
  } else {
    flags.min_time_fixed = true;
  }
}

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= value.size();) {
    const std::size_t comma = std::min(value.find(',', at), value.size());
    if (comma > at) out.push_back(value.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// The model families' flags (model_families.hpp); throws UsageError.
bool take_model_flag(const char* arg, edgeroof::bench::Options& options) {
  std::string value;
  if (take_value(arg, "--models", value)) {
    options.model_names = split_list(value);
    if (options.model_names.empty()) throw UsageError("--models takes zoo model names (edgeroof model --list)");
  } else if (take_value(arg, "--model-batch", value)) {
    options.model_batch = parse_int(value, "--model-batch");
    if (options.model_batch < 1) throw UsageError("--model-batch must be at least 1");
  } else if (take_value(arg, "--model-phase", value)) {
    options.model_phases = split_list(value);
    if (options.model_phases.empty()) throw UsageError("--model-phase takes inference, train_sgd or train_adam");
    for (const auto& phase : options.model_phases) {
      if (!edgeroof::results::is_model_phase(phase))
        throw UsageError("--model-phase takes inference, train_sgd or train_adam, not '" + phase + "'");
    }
  } else if (take_value(arg, "--model-dtype", value)) {
    if (value != "fp32" && value != "fp16") throw UsageError("--model-dtype takes fp32 or fp16, not '" + value + "'");
    options.model_dtype = value;
  } else {
    return false;
  }
  return true;
}

// The models of --models built once before anything is measured or said, so an unknown name (or a
// batch the zoo refuses) is one line and exit 2, as a bad flag is.
void check_models(const edgeroof::bench::Options& options) {
  try {
    (void)edgeroof::bench::model_workloads(options);
  } catch (const edgeroof::dnn::ModelError& e) {
    throw UsageError(std::string("--models: ") + e.what());
  }
}

// edgeroof's own flags; throws UsageError.
bool take_edgeroof_flag(const char* arg, Flags& flags) {
  using namespace edgeroof;
  std::string value;
  auto& options = flags.options;
  if (take_model_flag(arg, options)) return true;
  if (take_value(arg, "--root", value)) {
    options.root = power::Root(value);
  } else if (take_value(arg, "--cuda-device", value)) {
    options.cuda_device = parse_int(value, "--cuda-device");
    if (options.cuda_device < 0) throw UsageError("--cuda-device must be >= 0");
  } else if (take_value(arg, "--dram-factor", value)) {
    options.dram_factor = parse_int(value, "--dram-factor");
    if (options.dram_factor < 1) throw UsageError("--dram-factor must be at least 1");
  } else if (take_value(arg, "--sensor", value)) {
    try {
      flags.sensor_kind = power::parse_sensor_kind(value);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--sensor: ") + e.what());
    }
  } else if (take_value(arg, "--idle-s", value)) {
    flags.idle_s = parse_seconds(value, "--idle-s");
  } else if (take_value(arg, "--clock-period-s", value)) {
    flags.clock_period_s = parse_seconds(value, "--clock-period-s");
    // Faster than a millisecond would cost a core's worth of reads and tell nothing new.
    if (flags.clock_period_s > 10.0 || (flags.clock_period_s > 0.0 && flags.clock_period_s < 1e-3))
      throw UsageError("--clock-period-s takes 0 (off) or 0.001 to 10 seconds");
  } else if (take_value(arg, "--min-sensor-updates", value)) {
    flags.min_sensor_updates = parse_int(value, "--min-sensor-updates");
    if (flags.min_sensor_updates < 0) throw UsageError("--min-sensor-updates must be >= 0");
  } else if (take_value(arg, "--layers", value)) {
    options.layer_models = split_list(value);
  } else if (take_value(arg, "--layer-batch", value)) {
    options.layer_batch = parse_int(value, "--layer-batch");
    if (options.layer_batch < 1) throw UsageError("--layer-batch must be at least 1");
  } else if (take_value(arg, "--layer-dtype", value)) {
    if (value != "fp32" && value != "fp16") throw UsageError("--layer-dtype takes fp32 or fp16, not '" + value + "'");
    options.layer_dtype = value;
  } else {
    return false;
  }
  return true;
}

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  flags.rest.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      flags.help = true;
      return flags;
    }
    if (take_edgeroof_flag(argv[i], flags)) continue;
    std::string value;
    if (take_value(argv[i], "--benchmark_min_time", value)) take_min_time(value, flags);
    flags.rest.push_back(argv[i]);
  }
  return flags;
}

// The sensor is chosen before Google Benchmark reads its flags, so the minimum time can be raised
// to span enough sensor updates (a window of a few updates gives 0 J or noise). `storage` keeps
// the new argument alive.
void raise_min_time(const edgeroof::power::EnergySensor& sensor, Flags& flags, std::string& storage) {
  if (!sensor.available() || flags.min_sensor_updates <= 0) return;
  const int updates = flags.min_sensor_updates;
  if (flags.min_time_fixed) {
    std::fprintf(stderr,
                 "edgeroof-bench: warning: --benchmark_min_time is not in seconds, so energy windows are not raised "
                 "to span %d sensor updates; check sensor_updates\n",
                 updates);
    return;
  }
  const auto needed_s = edgeroof::bench::min_window_s(sensor, updates);
  if (!needed_s) {
    std::fprintf(stderr,
                 "edgeroof-bench: warning: the update period of %s is unknown, so windows cannot be made to span "
                 "%d updates; check sensor_updates\n",
                 sensor.name().c_str(), updates);
    return;
  }
  if (*needed_s <= flags.min_time_s) return;
  std::fprintf(stderr,
               "edgeroof-bench: --benchmark_min_time raised from %g to %g s so each energy window spans >= %d "
               "updates of %s\n",
               flags.min_time_s, *needed_s, updates, sensor.name().c_str());
  storage = "--benchmark_min_time=" + std::to_string(*needed_s);
  if (flags.min_time_at >= 0)
    flags.rest[static_cast<std::size_t>(flags.min_time_at)] = storage.data();
  else
    flags.rest.push_back(storage.data());
}

// clocks.sampled and clocks.period_s: which clocks every benchmark's clock_min_ratio compares.
void add_clock_context(const edgeroof::power::ClockSampler& clocks, edgeroof::bench::Context& context) {
  std::string sampled;
  for (const auto& domain : clocks.domains()) sampled += (sampled.empty() ? "" : ",") + domain.name;
  if (clocks.has_nvml_reasons()) sampled += (sampled.empty() ? "" : ",") + std::string("nvml.reasons");
  if (sampled.empty()) return;
  context[keys::clocks_sampled] = sampled;
  context[keys::clocks_period_s] = edgeroof::results::format_number(clocks.period_s());
}

// sensor.*, idle_power_W: which sensor, which rails, and what the machine draws doing nothing.
void add_sensor_context(edgeroof::power::EnergySensor& sensor, double idle_s, int min_updates,
                        edgeroof::bench::Context& context) {
  using edgeroof::results::format_number;
  context[keys::sensor_name] = sensor.name();
  if (!sensor.available()) {
    context[keys::sensor_unavailable] = sensor.unavailable_reason();
    return;
  }
  if (const auto period = sensor.update_period_s()) {
    context[keys::sensor_period_s] = format_number(*period);
    context[keys::sensor_period_source] = sensor.period_source();
  }
  std::string rails;
  for (const auto& rail : sensor.rails()) {
    rails += (rails.empty() ? "" : ",") + rail.name;
    context["sensor.rail." + rail.name + ".unit"] = rail.unit;
    if (!rail.inside.empty()) context["sensor.rail." + rail.name + ".inside"] = rail.inside;
  }
  context[keys::sensor_rails] = rails;
  context[keys::sensor_total] = sensor.total_description();
  if (idle_s <= 0.0) return;
  try {
    // Up to ten windows for the spread, but none shorter than --min-sensor-updates where that fits.
    int windows = 10;
    if (const auto needed_s = edgeroof::bench::min_window_s(sensor, min_updates)) {
      windows = std::max(1, std::min(10, static_cast<int>(idle_s / *needed_s)));
    }
    const auto idle = edgeroof::bench::measure_idle_power(sensor, idle_s, windows);
    if (idle.windows == 0) return;
    context[keys::idle_power_W] = format_number(idle.mean_W);
    if (idle.windows > 1) context["idle_power_W.stddev"] = format_number(idle.stddev_W);
    context["idle_power_W.windows"] = std::to_string(idle.windows);
    context["idle_power_W.duration_s"] = format_number(idle.duration_s);
    for (std::size_t r = 0; r < sensor.rails().size() && r < idle.rail_mean_W.size(); ++r) {
      if (std::isfinite(idle.rail_mean_W[r]))
        context["idle_power_W." + sensor.rails()[r].name] = format_number(idle.rail_mean_W[r]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof-bench: warning: idle power not measured: %s\n", e.what());
  }
}

// Registers the families this machine has and hands Google Benchmark the context that explains
// their numbers (idle power is measured here).
void register_and_describe(const Flags& flags, const edgeroof::power::ClockSampler* clocks,
                           edgeroof::power::EnergySensor& sensor) {
  using namespace edgeroof;
  const auto& options = flags.options;
  bench::Context context;
  bench::register_cpu_families(options, context);
  const bool cuda = bench::register_cuda_families(options, context);
  if (!cuda) std::fprintf(stderr, "edgeroof-bench: CUDA families skipped: %s\n", context[keys::cuda_skipped].c_str());
  bench::register_layer_families(options, context, cuda);
  bench::register_model_families(options, context, cuda);  // its models were checked by check_models()
  context[keys::edgeroof_version] = EDGEROOF_VERSION;
  context[keys::device_backend] = cuda ? "cuda,cpu" : "cpu";
  if (!cuda && context.count(keys::cpu_model)) context[keys::device_name] = context[keys::cpu_model];
  if (const auto l4t = power::read_l4t_release(options.root)) context[keys::l4t_release] = *l4t;
  for (const auto& [key, value] : power::read_current_clocks(options.root))
    context[keys::clocks_start_prefix + key] = std::to_string(value);
  if (clocks != nullptr) add_clock_context(*clocks, context);
  add_sensor_context(sensor, flags.idle_s, flags.min_sensor_updates, context);
  for (const auto& [key, value] : context) benchmark::AddCustomContext(key, value);
}

// Google Benchmark's flags, parsed once before anything is measured so a wrong one costs no run
// (they are parsed again after the sensor may have raised the minimum time). False when one is
// not Google Benchmark's.
bool benchmark_flags_valid(const std::vector<char*>& rest) {
  std::vector<char*> check = rest;
  int check_argc = static_cast<int>(check.size());
  benchmark::Initialize(&check_argc, check.data());
  return !benchmark::ReportUnrecognizedArguments(check_argc, check.data());
}

// The clocks every benchmark is compared with are the clocks as the run starts; none with
// --clock-period-s=0.
std::unique_ptr<edgeroof::power::ClockSampler> make_clock_sampler(const Flags& flags) {
  using namespace edgeroof;
  if (flags.clock_period_s <= 0.0) return nullptr;
  power::ClockSamplerOptions clock_options;
  clock_options.nvml_device = static_cast<unsigned>(flags.options.cuda_device);
  clock_options.period_s = flags.clock_period_s;
  return std::make_unique<power::ClockSampler>(flags.options.root, clock_options);
}

// The sensor of --sensor, handed to every energy window when it is available; says on stderr why
// there are no energy counters when it is not.
std::unique_ptr<edgeroof::power::EnergySensor> make_energy_sensor(const Flags& flags) {
  using namespace edgeroof;
  power::SensorOptions sensor_options;
  sensor_options.nvml_device = static_cast<unsigned>(flags.options.cuda_device);
  auto sensor = power::make_sensor(flags.sensor_kind, flags.options.root, sensor_options);
  if (!sensor->available() && flags.sensor_kind != power::SensorKind::none) {
    std::fprintf(stderr, "edgeroof-bench: no energy counters: %s\n", sensor->unavailable_reason().c_str());
  }
  for (const auto& warning : sensor->warnings()) bench::warn_once(warning);
  bench::set_energy_sensor(sensor->available() ? sensor.get() : nullptr);
  return sensor;
}

// Runs what the filter selects and writes the results file with the clocks at the end of the run.
// Returns the exit status.
int run_and_write(const Flags& flags, edgeroof::bench::Output& output) {
  using namespace edgeroof;
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
  // The last layer's or model's buffers, freed while the libraries (CUDA among them) are still up.
  bench::release_cached_model();
  bench::release_cached_layer_kernel();
  benchmark::Shutdown();
  bench::set_clock_sampler(nullptr);
  if (ran == 0) {
    std::fprintf(stderr, "edgeroof-bench: error: no benchmark matched the filter; nothing written\n");
    return 1;
  }
  bench::Context end;
  for (const auto& [key, value] : power::read_current_clocks(flags.options.root))
    end[keys::clocks_end_prefix + key] = std::to_string(value);
  output.finish(end);
  return 0;
}

int run(int argc, char** argv) {
  using namespace edgeroof;
  Flags flags = parse_flags(argc, argv);
  if (flags.help) {
    std::fputs(usage, stdout);
    return 0;
  }
  // A CPU without the extensions the kernels were built for is refused before any kernel runs.
  if (const auto e =
          bench::cpu_mismatch_error(bench::missing_cpu_features(kernels::cpu::compiled_cpu_features, bench::cpu_has))) {
    throw std::runtime_error(*e);
  }
  // The results path and Google Benchmark's flags are checked before anything is measured.
  bench::Output output(flags.rest);
  if (!benchmark_flags_valid(flags.rest)) return 2;
  check_models(flags.options);

  const auto clocks = make_clock_sampler(flags);
  bench::set_clock_sampler(clocks.get());
  const auto sensor = make_energy_sensor(flags);
  std::string min_time_arg;
  raise_min_time(*sensor, flags, min_time_arg);

  int rest_argc = static_cast<int>(flags.rest.size());
  benchmark::Initialize(&rest_argc, flags.rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, flags.rest.data())) return 2;

  register_and_describe(flags, clocks.get(), *sensor);
  return run_and_write(flags, output);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const edgeroof::bench::UsageError& e) {
    std::fprintf(stderr, "edgeroof-bench: %s (see edgeroof-bench --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof-bench: error: %s\n", e.what());
    return 1;
  }
}
