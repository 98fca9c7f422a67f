// CPU backend: a pool of pinned threads, the compute kernel family (one templated kernel per
// FLOP count) and the STREAM-style memory kernels. No timing here: bench/ times these calls.
#pragma once

#include "edgeroof/kernels/backend.hpp"
#include "edgeroof/kernels/traits.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace edgeroof::kernels::cpu {

// Name of the vector instruction set the kernels were compiled for ("avx512", "avx2", "neon",
// "scalar") and its width in bytes.
[[nodiscard]] std::string_view simd_isa();
[[nodiscard]] int simd_width_bytes();

// The instruction-set extensions the CPU kernels were compiled for (EDGEROOF_CPU_ARCH), from the
// compiler's predefined macros, ending with nullptr. x86 names are those of GCC's
// __builtin_cpu_supports ("avx2", "fma", "avx512f"), aarch64 names those of Linux's HWCAP
// ("asimdhp", "asimddp", "sve"). Constant data, read by code built without those extensions
// (edgeroof-bench's start-up check) before any kernel runs.
extern const char* const compiled_cpu_features[];

// CPUs this process may run on (sched_getaffinity), in increasing order.
[[nodiscard]] std::vector<int> allowed_cpus();

// One thread per CPU, each pinned to its CPU; the calling thread is worker 0 and is pinned to the
// first CPU while run() executes. Workers spin briefly between jobs, then sleep, so an idle pool
// does not burn power between benchmarks.
class ThreadPool {
public:
  explicit ThreadPool(std::vector<int> cpus = allowed_cpus());
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] int size() const { return static_cast<int>(m_cpus.size()); }
  [[nodiscard]] const std::vector<int>& cpus() const { return m_cpus; }

  // Runs fn(worker) on every worker and returns when all have finished. An exception thrown by
  // any worker is rethrown here.
  void run(const std::function<void(int)>& fn);

private:
  void worker_loop(int worker);
  void run_one(int worker) noexcept;

  std::vector<int> m_cpus;
  std::vector<std::thread> m_threads;
  const std::function<void(int)>* m_job = nullptr;
  std::atomic<std::uint64_t> m_generation{0};
  std::atomic<int> m_pending{0};
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::exception_ptr m_error;
};

// [begin, end) of worker w's share of n elements, in multiples of `align` elements.
struct Range {
  std::size_t begin;
  std::size_t end;
};
[[nodiscard]] Range chunk(std::size_t n, std::size_t align, int worker, int workers);

// 64-byte aligned storage that is first touched by the worker that will use each chunk.
class Buffer {
public:
  Buffer() = default;
  Buffer(std::size_t bytes);
  [[nodiscard]] void* data() const { return m_data.get(); }
  [[nodiscard]] std::size_t bytes() const { return m_bytes; }

private:
  struct Free {
    void operator()(void* p) const noexcept;
  };
  std::unique_ptr<void, Free> m_data;
  std::size_t m_bytes = 0;
};

// The compute family (backend.hpp) on the pool's threads, each on its own chunk of the array.
class ComputeKernel final : public kernels::ComputeKernel {
public:
  // Dtype fp32 or fp64 (std::invalid_argument otherwise); elements is rounded up to a whole block
  // per worker.
  ComputeKernel(ThreadPool& pool, Dtype dtype, std::size_t elements);

private:
  void do_reset() override;
  void do_run(int flops_per_element, std::uint64_t passes) override;
  double do_max_relative_error() override;

  ThreadPool& m_pool;
  std::size_t m_align;
  Buffer m_buffer;
};

// The memory kernels (backend.hpp) on the pool's threads, each on its own chunk of every array.
class MemoryBench final : public kernels::MemoryBench {
public:
  MemoryBench(ThreadPool& pool, MemoryKernel kernel, std::size_t working_set_bytes);

private:
  void do_run(std::uint64_t passes) override;
  double do_max_relative_error() override;

  ThreadPool& m_pool;
  std::size_t m_align;
  std::vector<Buffer> m_arrays;
  std::vector<double> m_sums;  // read kernel: one sum per worker
};

}  // namespace edgeroof::kernels::cpu
