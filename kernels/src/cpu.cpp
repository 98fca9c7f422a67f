#include "edgeroof/kernels/cpu.hpp"

#include "cpu_simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#endif

namespace edgeroof::kernels::cpu {

using detail::block_elements;
using detail::Vec;

const char* const compiled_cpu_features[] = {
#if defined(__x86_64__)
#if defined(__AVX__)
    "avx",
#endif
#if defined(__AVX2__)
    "avx2",
#endif
#if defined(__FMA__)
    "fma",
#endif
#if defined(__BMI2__)
    "bmi2",
#endif
#if defined(__AVX512F__)
    "avx512f",
#endif
#if defined(__AVX512CD__)
    "avx512cd",
#endif
#if defined(__AVX512VL__)
    "avx512vl",
#endif
#if defined(__AVX512BW__)
    "avx512bw",
#endif
#if defined(__AVX512DQ__)
    "avx512dq",
#endif
#if defined(__AVX512VNNI__)
    "avx512vnni",
#endif
#elif defined(__aarch64__)
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
    "asimdhp",
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    "asimddp",
#endif
#if defined(__ARM_FEATURE_ATOMICS)
    "atomics",
#endif
#if defined(__ARM_FEATURE_SVE)
    "sve",
#endif
#endif
    nullptr};

std::string_view simd_isa() { return detail::isa_name; }
int simd_width_bytes() { return static_cast<int>(Vec<float>::width * sizeof(float)); }

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
#endif
  if (cpus.empty()) {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

namespace {

void pin_current_thread(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // Pinning is best effort: a CPU taken offline between discovery and here leaves the thread free.
  (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
  (void)cpu;
#endif
}

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

constexpr int spins_before_sleep = 1 << 16;

}  // namespace

ThreadPool::ThreadPool(std::vector<int> cpus) : m_cpus(std::move(cpus)) {
  if (m_cpus.empty()) throw std::invalid_argument("ThreadPool: no CPUs to run on");
  for (int w = 1; w < size(); ++w) m_threads.emplace_back([this, w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
    m_generation.fetch_add(1);
  }
  m_wake.notify_all();
  for (auto& t : m_threads) t.join();
}

void ThreadPool::run_one(int worker) noexcept {
  try {
    (*m_job)(worker);
  } catch (...) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_error) m_error = std::current_exception();
  }
}

void ThreadPool::worker_loop(int worker) {
  pin_current_thread(m_cpus[static_cast<std::size_t>(worker)]);
  std::uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (m_generation.load(std::memory_order_acquire) == seen && spins < spins_before_sleep) {
      spin_pause();
      ++spins;
    }
    if (m_generation.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_wake.wait(lock, [&] { return m_generation.load(std::memory_order_acquire) != seen; });
    }
    seen = m_generation.load(std::memory_order_acquire);
    if (m_stop) return;
    run_one(worker);
    m_pending.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  pin_current_thread(m_cpus[0]);
  m_job = &fn;
  m_error = nullptr;
  m_pending.store(size() - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  m_wake.notify_all();
  run_one(0);
  while (m_pending.load(std::memory_order_acquire) != 0) spin_pause();
  m_job = nullptr;
  if (m_error) std::rethrow_exception(m_error);
}

Range chunk(std::size_t n, std::size_t align, int worker, int workers) {
  const std::size_t blocks = n / align;
  const std::size_t w = static_cast<std::size_t>(worker);
  const std::size_t ws = static_cast<std::size_t>(workers);
  const std::size_t base = blocks / ws;
  const std::size_t extra = blocks % ws;
  const std::size_t begin = w * base + std::min(w, extra);
  const std::size_t count = base + (w < extra ? 1 : 0);
  return {begin * align, (begin + count) * align};
}

void Buffer::Free::operator()(void* p) const noexcept { std::free(p); }

Buffer::Buffer(std::size_t bytes) : m_bytes(bytes) {
  constexpr std::size_t huge = std::size_t(2) << 20;
  const std::size_t alignment = bytes >= huge ? huge : 64;
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, std::max(rounded, alignment));
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (alignment == huge) (void)madvise(p, rounded, MADV_HUGEPAGE);  // fewer TLB misses; advisory
#endif
  m_data.reset(p);
}

// ---- compute ---------------------------------------------------------------------------------

namespace {

template <class T, int Flops>
void compute_range(T* x, Range r, T a_value, T b_value, std::uint64_t passes) {
  using V = Vec<T>;
  constexpr int chains = detail::fma_chains;
  const auto a = V::set1(a_value);
  const auto b = V::set1(b_value);
  for (std::uint64_t p = 0; p < passes; ++p) {
    for (std::size_t i = r.begin; i < r.end; i += block_elements<T>) {
      typename V::R v[chains];
      for (int c = 0; c < chains; ++c) v[c] = V::load(x + i + std::size_t(c) * V::width);
      if constexpr (Flops == 1) {
        for (int c = 0; c < chains; ++c) v[c] = V::mul(v[c], a);
      } else {
#pragma GCC unroll 4
        for (int k = 0; k < Flops / 2; ++k) {
          for (int c = 0; c < chains; ++c) v[c] = V::fma(v[c], a, b);
        }
      }
      for (int c = 0; c < chains; ++c) V::store(x + i + std::size_t(c) * V::width, v[c]);
    }
    detail::compiler_barrier();
  }
}

template <class T, std::size_t... I>
void dispatch_compute(int flops, T* x, Range r, T a, T b, std::uint64_t passes, std::index_sequence<I...>) {
  bool done = false;
  (void)((compute_flop_counts[I] == flops ? (compute_range<T, compute_flop_counts[I]>(x, r, a, b, passes), done = true)
                                          : false) ||
         ...);
  if (!done) throw std::invalid_argument("no compute kernel for " + std::to_string(flops) + " FLOPs per element");
}

template <class T>
void run_compute(ThreadPool& pool, void* data, std::size_t n, std::size_t align, int flops, std::uint64_t passes) {
  const auto p = compute_params(flops);
  T* x = static_cast<T*>(data);
  pool.run([&](int w) {
    dispatch_compute<T>(flops, x, chunk(n, align, w, pool.size()), static_cast<T>(p.a), static_cast<T>(p.b), passes,
                        std::make_index_sequence<compute_flop_counts.size()>{});
  });
}

template <class T>
void init_compute(ThreadPool& pool, void* data, std::size_t n, std::size_t align) {
  T* x = static_cast<T*>(data);
  pool.run([&](int w) {
    const Range r = chunk(n, align, w, pool.size());
    for (std::size_t i = r.begin; i < r.end; ++i) x[i] = static_cast<T>(compute_initial(i));
  });
}

// compute_initial() repeats, so one period of expected values covers any array.
template <class T>
std::vector<double> expected_table(int flops, std::uint64_t passes) {
  std::vector<double> table(compute_initial_period);
  for (std::size_t i = 0; i < table.size(); ++i) {
    table[i] = compute_expected(static_cast<double>(static_cast<T>(compute_initial(i))), flops, passes);
  }
  return table;
}

template <class T>
double compute_error(const void* data, std::size_t n, int flops, std::uint64_t passes) {
  const T* x = static_cast<const T*>(data);
  const auto want_of = expected_table<T>(flops, passes);
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double want = want_of[i % want_of.size()];
    worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - want) / std::max(std::fabs(want), 1e-30));
  }
  return worst;
}

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

// Elements of one vector block of the dtype; only fp32 and fp64 are built for the CPU.
std::size_t compute_align(Dtype dtype) {
  if (dtype == Dtype::fp32) return block_elements<float>;
  if (dtype == Dtype::fp64) return block_elements<double>;
  throw std::invalid_argument("CPU compute kernel: dtype " + std::string(name_of(dtype)) + " is not built for the CPU");
}

std::size_t compute_elements(const ThreadPool& pool, Dtype dtype, std::size_t elements) {
  return round_up(std::max<std::size_t>(elements, 1), compute_align(dtype) * static_cast<std::size_t>(pool.size()));
}

}  // namespace

ComputeKernel::ComputeKernel(ThreadPool& pool, Dtype dtype, std::size_t elements)
    : kernels::ComputeKernel(dtype, compute_elements(pool, dtype, elements)),
      m_pool(pool),
      m_align(compute_align(dtype)),
      m_buffer(this->elements() * size_of(dtype)) {
  reset();
}

void ComputeKernel::do_reset() {
  if (dtype() == Dtype::fp32) {
    init_compute<float>(m_pool, m_buffer.data(), elements(), m_align);
  } else {
    init_compute<double>(m_pool, m_buffer.data(), elements(), m_align);
  }
}

void ComputeKernel::do_run(int flops_per_element, std::uint64_t passes) {
  if (dtype() == Dtype::fp32) {
    run_compute<float>(m_pool, m_buffer.data(), elements(), m_align, flops_per_element, passes);
  } else {
    run_compute<double>(m_pool, m_buffer.data(), elements(), m_align, flops_per_element, passes);
  }
}

double ComputeKernel::do_max_relative_error() {
  return dtype() == Dtype::fp32 ? compute_error<float>(m_buffer.data(), elements(), flops(), passes())
                                : compute_error<double>(m_buffer.data(), elements(), flops(), passes());
}

// ---- memory ----------------------------------------------------------------------------------

namespace {

double read_range(const double* a, Range r) {
  using V = Vec<double>;
  constexpr int chains = detail::fma_chains;
  typename V::R acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = V::set1(0.0);
  for (std::size_t i = r.begin; i < r.end; i += block_elements<double>) {
    for (int c = 0; c < chains; ++c) acc[c] = V::add(acc[c], V::load(a + i + std::size_t(c) * V::width));
  }
  double s = 0.0;
  for (int c = 0; c < chains; ++c) s += V::sum(acc[c]);
  return s;
}

// Separate functions with restrict-qualified arrays: the loops vectorize without alias checks,
// as a STREAM loop over distinct static arrays does.
void write_range(double* __restrict a, Range r, double value) {
  for (std::size_t i = r.begin; i < r.end; ++i) a[i] = value;
}

void copy_range(const double* __restrict a, double* __restrict b, Range r) {
  for (std::size_t i = r.begin; i < r.end; ++i) b[i] = a[i];
}

void triad_range(double* __restrict a, const double* __restrict b, const double* __restrict c, Range r) {
  for (std::size_t i = r.begin; i < r.end; ++i) a[i] = b[i] + memory_scalar * c[i];
}

}  // namespace

MemoryBench::MemoryBench(ThreadPool& pool, MemoryKernel kernel, std::size_t working_set_bytes)
    : kernels::MemoryBench(kernel), m_pool(pool), m_align(block_elements<double>) {
  const auto arrays = static_cast<std::size_t>(traffic_of(kernel).arrays);
  set_elements(round_up(std::max<std::size_t>(working_set_bytes / (arrays * sizeof(double)), 1),
                        m_align * static_cast<std::size_t>(pool.size())));
  const std::size_t n = elements();
  for (std::size_t k = 0; k < arrays; ++k) m_arrays.emplace_back(n * sizeof(double));
  m_sums.assign(static_cast<std::size_t>(pool.size()), 0.0);
  const double init[3] = {memory_init_a, memory_init_b, memory_init_c};
  m_pool.run([&](int w) {
    const Range r = chunk(n, m_align, w, m_pool.size());
    for (std::size_t k = 0; k < arrays; ++k) {
      auto* x = static_cast<double*>(m_arrays[k].data());
      std::fill(x + r.begin, x + r.end, init[k]);
    }
  });
}

void MemoryBench::do_run(std::uint64_t passes) {
  auto* a = static_cast<double*>(m_arrays[0].data());
  auto* b = m_arrays.size() > 1 ? static_cast<double*>(m_arrays[1].data()) : nullptr;
  auto* c = m_arrays.size() > 2 ? static_cast<double*>(m_arrays[2].data()) : nullptr;
  const std::uint64_t first = this->passes();
  const MemoryKernel kind = kernel();
  m_pool.run([&](int w) {
    const Range r = chunk(elements(), m_align, w, m_pool.size());
    for (std::uint64_t p = 0; p < passes; ++p) {
      switch (kind) {
      case MemoryKernel::read:
        m_sums[static_cast<std::size_t>(w)] = read_range(a, r);
        break;
      case MemoryKernel::write:
        write_range(a, r, static_cast<double>(first + p + 1));
        break;
      case MemoryKernel::copy:
        copy_range(a, b, r);
        break;
      case MemoryKernel::triad:
        triad_range(a, b, c, r);
        break;
      }
      detail::compiler_barrier();
    }
  });
}

double MemoryBench::do_max_relative_error() {
  const std::size_t n = elements();
  auto worst_of = [&](const Buffer& buf, double want) {
    const auto* x = static_cast<const double*>(buf.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(x[i] - want) / std::fabs(want));
    return worst;
  };
  switch (kernel()) {
  case MemoryKernel::read: {
    double worst = 0.0;
    for (int w = 0; w < m_pool.size(); ++w) {
      const Range r = chunk(n, m_align, w, m_pool.size());
      const double want = memory_init_a * static_cast<double>(r.end - r.begin);
      const double got = m_sums[static_cast<std::size_t>(w)];
      worst = std::max(worst, want == 0.0 ? std::fabs(got) : std::fabs(got - want) / want);
    }
    return worst;
  }
  case MemoryKernel::write:
    return worst_of(m_arrays[0], static_cast<double>(passes()));
  case MemoryKernel::copy:
    return worst_of(m_arrays[1], memory_init_a);
  case MemoryKernel::triad:
    return worst_of(m_arrays[0], memory_init_b + memory_scalar * memory_init_c);
  }
  return 0.0;
}

}  // namespace edgeroof::kernels::cpu
