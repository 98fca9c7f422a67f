// edgeroof-bench: every roofline kernel as a Google Benchmark, with the context that explains
// its numbers. Google Benchmark's flags work as usual; edgeroof's own flags are listed by --help.
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "families.hpp"
#include "output.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
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
  --help              this text; --benchmark_help lists Google Benchmark's flags

Benchmark names: compute/<backend>/<dtype>/ai:<FLOP per byte>, memory/<backend>/<kernel>/bytes:<set>,
compute/cuda/<type>-tensor/gemm:<n>. Counters: flops, bytes (per iteration), ai, FLOP/s, B/s.
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
  std::size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw std::invalid_argument(std::string(flag) + " takes a whole number, not '" + text + "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgeroof;
  try {
    bench::Options options;
    std::vector<char*> rest{argv[0]};
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
      } else {
        rest.push_back(argv[i]);
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
    context["edgeroof.version"] = EDGEROOF_VERSION;
    context["device.backend"] = cuda ? "cuda,cpu" : "cpu";
    if (!cuda && context.count("cpu.model")) context["device.name"] = context["cpu.model"];
    if (const auto l4t = power::read_l4t_release(options.root)) context["l4t.release"] = *l4t;
    for (const auto& [key, value] : power::read_current_clocks(options.root)) context["clocks.start." + key] = std::to_string(value);
    for (const auto& [key, value] : context) benchmark::AddCustomContext(key, value);

    const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (ran == 0) {
      std::fprintf(stderr, "edgeroof-bench: error: no benchmark matched the filter; nothing written\n");
      return 1;
    }

    bench::Context end;
    for (const auto& [key, value] : power::read_current_clocks(options.root)) end["clocks.end." + key] = std::to_string(value);
    output.finish(end);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof-bench: error: %s\n", e.what());
    return 1;
  }
}
