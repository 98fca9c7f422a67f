#include "edgeroof/kernels/cpu.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <set>
#include <stdexcept>

namespace ek = edgeroof::kernels;
namespace kc = edgeroof::kernels::cpu;

namespace {
kc::ThreadPool& pool() {
  static kc::ThreadPool p;
  return p;
}
}  // namespace

TEST(ThreadPool, RunsEveryWorkerOncePerJob) {
  std::atomic<int> calls{0};
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(pool().size()));
  for (int job = 0; job < 50; ++job) {
    pool().run([&](int w) {
      calls.fetch_add(1);
      seen[static_cast<std::size_t>(w)].fetch_add(1);
    });
  }
  EXPECT_EQ(calls.load(), 50 * pool().size());
  for (auto& s : seen) EXPECT_EQ(s.load(), 50);
}

TEST(ThreadPool, RethrowsWorkerException) {
  EXPECT_THROW(pool().run([&](int w) {
    if (w == pool().size() - 1) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  int ran = 0;
  pool().run([&](int w) {
    if (w == 0) ran = 1;
  });
  EXPECT_EQ(ran, 1);  // still usable afterwards
}

TEST(Chunk, PartitionsExactlyInAlignedPieces) {
  for (int workers : {1, 2, 3, 7}) {
    const std::size_t n = 64 * 37;
    std::size_t next = 0;
    for (int w = 0; w < workers; ++w) {
      const auto r = kc::chunk(n, 64, w, workers);
      EXPECT_EQ(r.begin, next);
      EXPECT_EQ(r.begin % 64, 0u);
      next = r.end;
    }
    EXPECT_EQ(next, n);
  }
}

TEST(CpuCompute, EveryInstanceComputesTheRecurrence) {
  for (auto dtype : {ek::Dtype::fp32, ek::Dtype::fp64}) {
    kc::ComputeKernel k(pool(), dtype, 4096);
    for (int flops : ek::compute_flop_counts) {
      k.reset();
      k.run(flops, 2);
      k.run(flops, 1);
      const double tol = dtype == ek::Dtype::fp64 ? 1e-12 : 1e-5;
      EXPECT_LE(k.max_relative_error(), tol) << ek::name_of(dtype) << " flops=" << flops;
    }
  }
}

TEST(CpuCompute, CheckCanTellOnePassFromAnother) {
  // The output check is only worth something if a pass more or less changes the expected value by
  // far more than the tolerance: at low FLOP counts it does for every starting value.
  for (std::size_t i = 0; i < 1024; i += 31) {
    const double x0 = static_cast<float>(ek::compute_initial(i));
    if (x0 == 1.0) continue;  // the recurrence's fixed point
    const double two = ek::compute_expected(x0, 8, 2);
    const double three = ek::compute_expected(x0, 8, 3);
    EXPECT_GT(std::fabs(two - three) / std::fabs(three), 1e-3) << x0;
  }
  kc::ComputeKernel k(pool(), ek::Dtype::fp32, 4096);
  k.run(8, 2);
  EXPECT_LE(k.max_relative_error(), 1e-5);
  EXPECT_THROW(k.run(16, 1), std::logic_error);  // mixing FLOP counts without reset
}

TEST(CpuCompute, RejectsUnbuiltDtypeAndFlopCount) {
  EXPECT_THROW(kc::ComputeKernel(pool(), ek::Dtype::fp16, 1024), std::invalid_argument);
  kc::ComputeKernel k(pool(), ek::Dtype::fp32, 1024);
  EXPECT_THROW(k.run(3, 1), std::invalid_argument);
}

TEST(CpuCompute, ElementsRoundedToWholeBlocksPerWorker) {
  kc::ComputeKernel k(pool(), ek::Dtype::fp64, 1000);
  EXPECT_GE(k.elements(), 1000u);
  EXPECT_EQ(k.elements() % static_cast<std::size_t>(pool().size()), 0u);
  EXPECT_EQ(k.bytes_per_pass(), k.elements() * 16);
}

TEST(CpuMemory, EveryKernelProducesStreamValues) {
  for (auto kind : ek::memory_kernels) {
    kc::MemoryBench m(pool(), kind, 1 << 20);
    m.run(3);
    EXPECT_LE(m.max_relative_error(), 1e-12) << ek::name_of(kind);
    EXPECT_EQ(m.bytes_per_pass(), m.elements() * ek::memory_bytes_per_element(kind, ek::Dtype::fp64));
    EXPECT_NEAR(static_cast<double>(m.working_set_bytes()), double(1 << 20), double(1 << 20) * 0.05);
  }
}

// The CPU kernels through the backend interface bench/ uses for every backend.
TEST(CpuBackend, KernelsWorkThroughTheSharedInterface) {
  std::unique_ptr<ek::ComputeKernel> compute = std::make_unique<kc::ComputeKernel>(pool(), ek::Dtype::fp64, 4096);
  EXPECT_EQ(compute->max_relative_error(), 0.0);  // nothing run yet
  compute->run(16, 2);
  EXPECT_LE(compute->max_relative_error(), compute->tolerance());
  EXPECT_EQ(compute->tolerance(), 1e-12);
  EXPECT_EQ(compute->flops_per_pass(16), 16.0 * static_cast<double>(compute->elements()));
  EXPECT_EQ(compute->dtype(), ek::Dtype::fp64);
  compute->reset();
  EXPECT_NO_THROW(compute->run(32, 1));  // a new FLOP count after reset()
  EXPECT_THROW(compute->run(5, 1), std::logic_error);

  std::unique_ptr<ek::MemoryBench> memory = std::make_unique<kc::MemoryBench>(pool(), ek::MemoryKernel::triad, 1 << 20);
  EXPECT_EQ(memory->max_relative_error(), 0.0);
  memory->run(2);
  EXPECT_LE(memory->max_relative_error(), memory->tolerance());
  EXPECT_EQ(memory->kernel(), ek::MemoryKernel::triad);
  EXPECT_EQ(memory->flops_per_pass(), memory->elements() * 2);
}
