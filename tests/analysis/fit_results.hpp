// A results file of the fit tests (library and command), as edgeroof-bench writes it: two compute
// and three memory benchmarks of one mode, one of them failed.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace edgeroof::testing {

// A results file in Google Benchmark's JSON format, as edgeroof-bench writes it.
inline std::string results_json(double cpu_fp32_rate, double dram_rate, const std::string& mode_key) {
  return R"({
  "context": {"date": "2026-11-27T07:00:00+00:00", "host_name": "orin", "num_cpus": 12, "mhz_per_cpu": 2201,
              "edgeroof.version": "0.1.0", "device.name": "Orin", "power_mode.key": ")" +
         mode_key + R"(",
              "power_mode.name": "MAXN", "power_mode.id": "0", "power_mode.gpu_hz": "1300500000"},
  "benchmarks": [
    {"name": "compute/cpu/fp32/ai:256", "run_name": "compute/cpu/fp32/ai:256", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 5, "real_time": 129.0, "cpu_time": 129.0,
     "time_unit": "ms", "B/s": 2e9, "FLOP/s": )" +
         std::to_string(cpu_fp32_rate) + R"(, "ai": 256, "bytes": 2.68e8, "flops": 6.87e10},
    {"name": "compute/cpu/fp32/ai:1", "run_name": "compute/cpu/fp32/ai:1", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 190, "real_time": 3.79, "cpu_time": 3.79,
     "time_unit": "ms", "B/s": 6.5e10, "FLOP/s": 7.0e10, "ai": 1, "bytes": 2.68e8, "flops": 2.68e8},
    {"name": "memory/cpu/triad/bytes:536870912", "run_name": "memory/cpu/triad/bytes:536870912",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 59,
     "real_time": 11540, "cpu_time": 11527, "time_unit": "us", "B/s": )" +
         std::to_string(dram_rate) + R"(,
     "FLOP/s": 3.8e9, "ai": 0.083, "bytes": 5.37e8, "flops": 4.47e7, "label": "level:dram"},
    {"name": "memory/cpu/triad/bytes:33554432", "run_name": "memory/cpu/triad/bytes:33554432",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 10,
     "real_time": 1000, "cpu_time": 1000, "time_unit": "us", "B/s": 9e12, "FLOP/s": 1, "ai": 0.083,
     "bytes": 1, "flops": 1, "label": "level:mixed"},
    {"name": "memory/cpu/copy/bytes:16384", "run_name": "memory/cpu/copy/bytes:16384", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0, "cpu_time": 0,
     "time_unit": "ns", "error_occurred": true, "error_message": "result check failed"}
  ]
})";
}

// The fixture with benchmark `index` changed by `edit`.
inline std::string edited(double cpu_rate, const std::function<void(nlohmann::json&)>& edit,
                          const std::string& key = "maxn") {
  nlohmann::json doc = nlohmann::json::parse(results_json(cpu_rate, 4.3e10, key));
  edit(doc);
  return doc.dump();
}

}  // namespace edgeroof::testing
