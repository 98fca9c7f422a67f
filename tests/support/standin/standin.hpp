// A stand-in of a Jetson board for tests and the convergence benchmark: results files for any
// power mode, made from physics of its own (a voltage-frequency table with a knee, per-core CPU
// leakage rising with voltage, an EMC efficiency read from a table, bandwidth as a smooth minimum of
// memory and compute sides, occasional thermal throttling). It is a stand-in, not a measurement:
// README.md in this folder documents every form and constant. Its forms differ on purpose from those
// the mode-space model assumes (reports/analysis/include/edgeroof/reports/modespace.hpp), so a model
// that fits it has not been told the answer.
#pragma once

#include "edgeroof/power/mode.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgeroof::standin {

// A piecewise-linear table: (x, y) knots with ascending x; constant beyond the ends.
using Knots = std::vector<std::pair<double, double>>;
[[nodiscard]] double interpolate(const Knots& knots, double x);

struct StandinBoard {
  std::string name;         // "orin-agx"
  std::string device_name;  // context device.name
  int cpu_count = 12;
  int tpcs = 8;
  std::vector<std::int64_t> cpu_khz, gpu_hz, emc_hz;  // the frequency tables, ascending
  Knots gpu_volts;       // GPU rail voltage (V) over clock (Hz): flat to the knee, then rising
  Knots cpu_volts;       // CPU rail voltage (V) over clock (kHz)
  Knots emc_volts;       // memory-controller voltage (V) over EMC clock (Hz)
  Knots emc_efficiency;  // achievable share of the DRAM peak over EMC clock (Hz)

  // GPU
  double fp32_lanes_per_tpc = 256;           // CUDA cores per TPC (2 SMs of 128)
  double tensor_flops_per_cycle_tpc = 4096;  // dense fp16 tensor FLOP per cycle per TPC
  double compute_efficiency = 0.965;         // of the fp32/fp16 peak the compute kernel reaches
  double tensor_efficiency = 0.72;           // of the tensor peak a large GEMM reaches
  double tensor_half_n = 900;                // GEMM size at which the tensor efficiency is halved (²)
  double l2_bytes_per_cycle = 512;           // L2 at the GPU clock
  double l2_efficiency = 0.88;
  double l2_bytes = 4 << 20;
  double dram_pull_bytes_per_cycle = 176;  // what the SMs can have in flight from DRAM per GPU cycle
  double dram_peak_bytes_per_s = 204.8e9;  // at the top EMC clock
  double bandwidth_sharpness = 3.2;        // of the smooth minimum of memory and GPU sides
  double time_sharpness = 5.0;             // of the smooth maximum of compute and memory time
  // CPU
  double cpu_flops_per_cycle = 16;  // per core, fp32 (2 × 128-bit FMA)
  double cpu_compute_efficiency = 0.92;
  double cpu_dram_share = 0.55;         // of the EMC bandwidth the CPU cluster fabric reaches
  double cpu_dram_bytes_per_cycle = 6;  // per core
  double cpu_l2_bytes_per_cycle = 24;   // per core
  double cpu_sharpness = 2.5;
  // Energy
  double gpu_flop_pj_per_v2 = 6.0;  // fp32 FLOP: C·V² (pJ per V²); fp16 and tensor are shares
  double fp16_flop_share = 0.55;
  double tensor_flop_share = 0.12;
  double l2_byte_pj = 6.0;          // on-chip byte at the top GPU voltage, ∝ V²
  double dram_byte_pj_core = 38.0;  // DRAM array and I/O per byte, EMC-independent
  double dram_byte_pj_ctrl = 42.0;  // controller per byte at the top EMC voltage, ∝ V²
  double cpu_flop_pj_per_v2 = 33.0;
  double cpu_byte_pj = 9.0;  // cache hierarchy per byte at the top CPU voltage, ∝ V²
  double board_W = 4.2;      // always-on: regulators, SoC fabric, I/O
  double cpu_leak_W = 0.03;  // one online core at cpu_leak_ref_V
  double cpu_leak_ref_V = 0.62;
  double cpu_leak_slope_V = 0.16;    // leakage e-folds every this many volts
  double gpu_leak_W_per_tpc = 0.09;  // at gpu_leak_ref_V
  double gpu_leak_ref_V = 0.59;
  double gpu_leak_slope_V = 0.14;
  double emc_background_W = 0.25;  // self refresh, PHY bias
  double emc_clock_W = 1.6;        // at the top EMC clock and voltage, ∝ f·V²
  double gpu_clock_tree_W = 0.9;   // busy GPU clock tree at the top clock and voltage, ∝ u·f·V²
  double host_core_W = 0.55;       // the CPU core that drives the GPU, at the top clock and voltage
  double idle_share = 0.93;        // idle power as a share of the static power
};

[[nodiscard]] StandinBoard orin_agx();  // Jetson AGX Orin 64 GB-like: 12 cores, 8 TPCs
[[nodiscard]] StandinBoard orin_nx();   // Orin NX 16 GB-like: 8 cores, 4 TPCs, other tables
// "orin-agx" or "orin-nx"; throws std::invalid_argument naming the board otherwise.
[[nodiscard]] StandinBoard board_by_name(const std::string& name);

// The knobs the physics reads. Grid modes switch every TPC on (mask 0).
struct Knobs {
  int cpu_online = 0;
  std::int64_t cpu_khz = 0, gpu_hz = 0, emc_hz = 0;
  std::int64_t tpc_pg_mask = 0;  // set bit = TPC off
};
// A mode's knobs; throws std::invalid_argument naming the mode and the knob when one is absent or
// out of the board's range (cores 1..cpu_count, clocks within the tables, at least one TPC on).
[[nodiscard]] Knobs knobs_of(const StandinBoard& board, const power::PowerMode& mode);

// The physics of a mode: what the benchmarks see, before noise.
struct Figures {
  double fp32_flops_per_s = 0, fp16_flops_per_s = 0, tensor_flops_per_s = 0;  // GPU peaks reached
  double l2_bytes_per_s = 0, dram_bytes_per_s = 0;                            // GPU
  double cpu_flops_per_s = 0, cpu_l2_bytes_per_s = 0, cpu_dram_bytes_per_s = 0;
  double fp32_flop_J = 0, fp16_flop_J = 0, tensor_flop_J = 0;
  double l2_byte_J = 0, dram_byte_J = 0;  // GPU-side, the on-chip part included in DRAM's
  double cpu_flop_J = 0, cpu_l2_byte_J = 0, cpu_dram_byte_J = 0;
  double static_W = 0;    // board, leakage, EMC: paid whatever runs
  double gpu_busy_W = 0;  // static + clock tree + the host core, while a GPU kernel runs
  double cpu_busy_W = 0;  // static while CPU kernels run (their dynamic power is per FLOP and byte)
  double idle_W = 0;
};
[[nodiscard]] Figures figures_of(const StandinBoard& board, const Knobs& knobs);

struct NoiseOptions {
  double time = 0.01;            // relative standard deviation of a repetition's time
  double energy = 0.015;         // and of its energy
  double throttle_share = 0.03;  // of the benchmarks with one throttled repetition
  int repetitions = 3;
  bool aggregates = true;  // mean, median, stddev and cv rows, as --benchmark_repetitions writes
};

// A Google Benchmark JSON results file of the mode as edgeroof-bench on a CUDA Jetson writes it
// under `edgeroof sweep` (the power_mode.* context included). Deterministic in (board, mode, seed).
[[nodiscard]] std::string results_json(const StandinBoard& board, const power::PowerMode& mode, unsigned seed,
                                       const NoiseOptions& noise = {});

// A whole-model benchmark as edgeroof-bench --models runs it: its name (results::ModelName) and
// each layer's FLOPs and DRAM bytes.
struct ModelRun {
  std::string name;
  std::vector<std::pair<double, double>> layers;
};
// A results file holding that one benchmark in the mode: its layers back to back on the GPU at
// fp32, timed and charged by the physics (README.md), with noise and no throttling.
[[nodiscard]] std::string model_results_json(const StandinBoard& board, const power::PowerMode& mode, unsigned seed,
                                             const ModelRun& run, const NoiseOptions& noise = {});

// The board's frequency tables, as `edgeroof modes` reads them from sysfs.
[[nodiscard]] power::FrequencyTables tables_of(const StandinBoard& board);
// The full grid (cores=all;cpu=all;gpu=all;emc=all), as `edgeroof modes --grid` makes it.
[[nodiscard]] std::vector<power::PowerMode> grid_modes(const StandinBoard& board, const power::GridSpec& spec = {});
// {"modes": [...]}: the output of `edgeroof modes --format json`.
[[nodiscard]] std::string modes_json(const std::vector<power::PowerMode>& modes);

}  // namespace edgeroof::standin
