// How every CUDA benchmark is timed: one stream and two events, the enqueued work of each
// iteration between them (manual time), so rates are per second of GPU time rather than of the
// CPU thread that waited for it. Shared by the roofline and the layer families.
#pragma once

#include "edgeroof/kernels/cuda.hpp"
#include "harness.hpp"

#include <benchmark/benchmark.h>

namespace edgeroof::bench::cuda_timing {

// The stream and the events every CUDA benchmark uses.
struct Stream {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  Stream() {
    EDGEROOF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    EDGEROOF_CUDA_CHECK(cudaEventCreate(&start));
    EDGEROOF_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~Stream() {
    (void)cudaEventDestroy(start);
    (void)cudaEventDestroy(stop);
    (void)cudaStreamDestroy(stream);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
};

// One instance for the whole program (inline: every translation unit shares it).
inline Stream& stream() {
  static Stream instance;
  return instance;
}

// Runs `enqueue` once per iteration between two events and reports the GPU time.
template <class Enqueue>
void timed_loop(benchmark::State& state, Enqueue&& enqueue) {
  auto& s = stream();
  EnergyWindow energy(state);
  for (auto _ : state) {
    EDGEROOF_CUDA_CHECK(cudaEventRecord(s.start, s.stream));
    enqueue();
    EDGEROOF_CUDA_CHECK(cudaEventRecord(s.stop, s.stream));
    EDGEROOF_CUDA_CHECK(cudaEventSynchronize(s.stop));
    float ms = 0.0f;
    EDGEROOF_CUDA_CHECK(cudaEventElapsedTime(&ms, s.start, s.stop));
    state.SetIterationTime(static_cast<double>(ms) * 1e-3);
  }
  energy.finish();
}

// Any CUDA failure ends this benchmark with the call that failed, not the whole run.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const kernels::cuda::Error& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace edgeroof::bench::cuda_timing
