// Device test (EDGEROOF_ENABLE_DEVICE_TESTS=ON, label "device"): every CUDA kernel computes what
// its metadata promises. Fails with the reason when no GPU is usable.
#include "device.hpp"
#include "edgeroof/kernels/cuda.hpp"

#include <gtest/gtest.h>

namespace ek = edgeroof::kernels;
namespace kc = edgeroof::kernels::cuda;

namespace {

class Cuda : public ::testing::Test {
protected:
  void SetUp() override {
    try {
      m_dev = kc::probe_device(0);
    } catch (const kc::Unavailable& e) {
      EDGEROOF_DEVICE_MISSING(e.what());
    }
    EDGEROOF_CUDA_CHECK(cudaStreamCreate(&m_stream));
  }
  void TearDown() override {
    if (m_stream != nullptr) (void)cudaStreamDestroy(m_stream);
  }
  kc::DeviceInfo m_dev;
  cudaStream_t m_stream = nullptr;
};

}  // namespace

TEST_F(Cuda, ComputeEveryDtypeAndFlopCount) {
  for (auto dtype : {ek::Dtype::fp16, ek::Dtype::fp32, ek::Dtype::fp64}) {
    kc::ComputeKernel k(dtype, 1 << 16, m_stream);
    for (int flops : ek::compute_flop_counts) {
      k.reset();
      k.run(flops, 1);
      k.run(flops, 1);
      const double tol = dtype == ek::Dtype::fp16 ? 2e-2 : dtype == ek::Dtype::fp32 ? 1e-5 : 1e-12;
      EXPECT_LE(k.max_relative_error(), tol) << ek::name_of(dtype) << " flops=" << flops;
    }
  }
}

TEST_F(Cuda, MemoryKernelsInCacheAndDram) {
  for (auto kind : ek::memory_kernels) {
    for (std::size_t ws : {std::size_t(1) << 18, std::size_t(64) << 20}) {
      kc::MemoryBench m(kind, ws, m_stream);
      m.run(3);
      EXPECT_LE(m.max_relative_error(), 1e-12) << ek::name_of(kind) << " " << ws;
    }
  }
}

TEST_F(Cuda, TensorGemmsAreExactOnIntegerInputs) {
  for (auto type : {kc::GemmType::fp16, kc::GemmType::tf32, kc::GemmType::int8}) {
    if (!kc::supports(type, m_dev.cc_major, m_dev.cc_minor)) continue;
    kc::Gemm g(type, 1024, m_stream);
    g.launch();
    EXPECT_LE(g.max_relative_error(), 1e-3) << kc::name_of(type);
  }
}
