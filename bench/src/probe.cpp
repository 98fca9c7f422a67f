// edgeroof-probe: references for the CPU kernels, written independently of them.
//  * FMA peak: every thread runs a register-only loop of independent vector FMA chains
//    (GCC/Clang vector types, contracted to FMA instructions); no memory traffic at all.
//  * STREAM triad: a[j] = b[j] + s * c[j] as an OpenMP parallel for, 20 runs, arrays of 4x the
//    last-level cache or more, as STREAM's rules ask; reports the best run (STREAM's figure) and
//    the mean of runs 2..20 (comparable with Google Benchmark's mean over iterations).
// Prints one JSON object. Built with the kernels' compiler and -march, so the ratios it gives the
// benchmark are like for like.
//
// --interleaved=R runs R rounds of: one STREAM triad pass, one pass of edgeroof's triad
// (memory/cpu/triad) on arrays of the same size, a short FMA-peak run, and one pass of edgeroof's
// fp32 compute kernel at 256 FLOP/byte (compute/cpu/fp32/ai:256, its benchmark's array size), with
// a pause between them so neither thread pool is still spinning. It prints the median of the
// per-round ratios: on a shared machine whose bandwidth drifts by tens of percent between
// minutes, only measurements taken side by side can be compared.
#include "edgeroof/kernels/cpu.hpp"

#include <omp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

#if defined(__AVX512F__)
constexpr int vector_bytes = 64;
#elif defined(__AVX__)
constexpr int vector_bytes = 32;
#else
constexpr int vector_bytes = 16;
#endif
typedef float vfloat __attribute__((vector_size(vector_bytes)));
constexpr int lanes = vector_bytes / 4;
constexpr int chains = 16;

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Returns the sum of the chains so the compiler must compute them.
__attribute__((noinline)) float fma_loop(long iterations, float seed) {
  vfloat acc[chains];
  vfloat a, b;
  for (int l = 0; l < lanes; ++l) {
    a[l] = 0.999f;
    b[l] = 0.001f * seed;
  }
  for (int c = 0; c < chains; ++c) {
    for (int l = 0; l < lanes; ++l) acc[c][l] = seed + float(c * lanes + l);
  }
  for (long i = 0; i < iterations; ++i) {
    for (int c = 0; c < chains; ++c) acc[c] = acc[c] * a + b;
  }
  float s = 0.0f;
  for (int c = 0; c < chains; ++c) {
    for (int l = 0; l < lanes; ++l) s += acc[c][l];
  }
  return s;
}

double fma_peak(int threads, double seconds) {
  // Calibrate on one thread, then run all threads for about `seconds`.
  long iterations = 1 << 20;
  for (;;) {
    const double t0 = now_s();
    volatile float sink = fma_loop(iterations, 1.0f);
    (void)sink;
    const double dt = now_s() - t0;
    if (dt > 0.05) {
      iterations = static_cast<long>(double(iterations) * seconds / dt);
      break;
    }
    iterations *= 4;
  }
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    float sink = 0.0f;
    const double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += fma_loop(iterations, 1.0f + float(omp_get_thread_num()));
    const double dt = now_s() - t0;
    if (sink == 42.0f) std::puts("");  // keeps the result alive
    best = std::max(best, double(threads) * double(iterations) * chains * lanes * 2.0 / dt);
  }
  return best;
}

struct TriadArrays {
  explicit TriadArrays(std::size_t n) : n(n), a(new double[n]), b(new double[n]), c(new double[n]) {
#pragma omp parallel for schedule(static)
    for (std::size_t j = 0; j < n; ++j) {
      a[j] = 1.0;
      b[j] = 2.0;
      c[j] = 0.5;
    }
  }
  // One timed pass, in seconds.
  double pass() {
    const double scalar = 3.0;
    const double t0 = now_s();
#pragma omp parallel for schedule(static)
    for (std::size_t j = 0; j < n; ++j) a[j] = b[j] + scalar * c[j];
    return now_s() - t0;
  }
  void check() const {
    for (std::size_t j = 0; j < n; j += n / 7 + 1) {
      if (a[j] != 3.5) {
        std::fprintf(stderr, "edgeroof-probe: triad check failed at %zu\n", j);
        std::exit(1);
      }
    }
  }
  [[nodiscard]] double bytes() const { return 3.0 * sizeof(double) * double(n); }
  std::size_t n;
  std::unique_ptr<double[]> a, b, c;
};

struct TriadTimes {
  double best_bytes_per_s;
  double mean_bytes_per_s;  // STREAM's "Avg time", first run left out
};

TriadTimes stream_triad(std::size_t n) {
  TriadArrays arrays(n);
  double best = 1e30, sum = 0.0;
  constexpr int runs = 20;
  for (int k = 0; k < runs; ++k) {
    const double dt = arrays.pass();
    best = std::min(best, dt);
    if (k > 0) sum += dt;
  }
  arrays.check();
  return {arrays.bytes() / best, arrays.bytes() / (sum / (runs - 1))};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

template <class F>
double timed(F&& f) {
  const double t0 = now_s();
  f();
  return now_s() - t0;
}

void pause_pools() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

nlohmann::json interleaved(int rounds, std::size_t n, int threads) {
  namespace ek = edgeroof::kernels;
  ek::cpu::ThreadPool pool;
  TriadArrays stream(n);
  ek::cpu::MemoryBench triad(pool, ek::MemoryKernel::triad, n * 3 * sizeof(double));
  // 128 MiB, in DRAM like the benchmark's; at 256 FLOP/byte the size does not change the rate.
  const std::size_t compute_elements = (std::size_t(128) << 20) / sizeof(float);
  ek::cpu::ComputeKernel compute(pool, ek::Dtype::fp32, compute_elements);
  const int flops = *ek::flops_for_intensity(ek::Dtype::fp32, 256.0);
  triad.run(1);
  compute.run(flops, 1);
  std::vector<double> stream_bw, edge_bw, peak, edge_flops, triad_ratio, compute_ratio;
  for (int r = 0; r < rounds; ++r) {
    pause_pools();
    stream_bw.push_back(stream.bytes() / stream.pass());
    pause_pools();
    edge_bw.push_back(double(triad.bytes_per_pass()) / timed([&] { triad.run(1); }));
    pause_pools();
    peak.push_back(fma_peak(threads, 0.1));
    pause_pools();
    edge_flops.push_back(double(compute.elements()) * flops / timed([&] { compute.run(flops, 1); }));
    triad_ratio.push_back(edge_bw.back() / stream_bw.back());
    compute_ratio.push_back(edge_flops.back() / peak.back());
  }
  stream.check();
  if (triad.max_relative_error() > 1e-12 || compute.max_relative_error() > 1e-5) {
    std::fprintf(stderr, "edgeroof-probe: edgeroof kernel check failed\n");
    std::exit(1);
  }
  return {{"rounds", rounds},
          {"triad_elements_per_array", n},
          {"stream_triad_bytes_per_s_median", median(stream_bw)},
          {"edgeroof_triad_bytes_per_s_median", median(edge_bw)},
          {"triad_ratio_median", median(triad_ratio)},
          {"fma_peak_flops_per_s_median", median(peak)},
          {"edgeroof_fp32_ai256_flops_per_s_median", median(edge_flops)},
          {"compute_ratio_median", median(compute_ratio)}};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = std::size_t(1) << 25;
  int rounds = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--triad-elements=", 17) == 0) {
      n = std::strtoull(argv[i] + 17, nullptr, 10);
    } else if (std::strncmp(argv[i], "--interleaved=", 14) == 0) {
      rounds = std::atoi(argv[i] + 14);
    } else {
      std::fprintf(stderr,
                   "usage: edgeroof-probe [--triad-elements=N] [--interleaved=ROUNDS]\n"
                   "Prints the CPU's FMA peak (FLOP/s) and a STREAM triad (B/s) as JSON; with\n"
                   "--interleaved, also their ratios to edgeroof's kernels measured side by side.\n");
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  if (n < 1024 || rounds < 0) {
    std::fprintf(stderr, "edgeroof-probe: --triad-elements must be at least 1024, --interleaved at least 0\n");
    return 2;
  }
  const int threads = omp_get_max_threads();
  nlohmann::json out;
  out["threads"] = threads;
  out["vector_bytes"] = vector_bytes;
  out["fma_peak_flops_per_s"] = fma_peak(threads, 0.5);
  out["stream_triad_elements"] = n;
  const auto triad = stream_triad(n);
  out["stream_triad_bytes_per_s"] = triad.best_bytes_per_s;
  out["stream_triad_mean_bytes_per_s"] = triad.mean_bytes_per_s;
  if (rounds > 0) out["interleaved"] = interleaved(rounds, n, threads);
  std::cout << out.dump(2) << "\n";
  return 0;
}
