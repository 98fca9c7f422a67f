// GPU layer kernels (device test: needs a CUDA GPU): every small layer of every op and pass, in
// fp32 and fp16, against the direct evaluation of its definition; the GEMMs through cuBLAS, the
// rest through cuDNN or edgeroof's own kernels. Fails with the reason when no GPU is usable.
#include "device.hpp"
#include "edgeroof/dnn/layer_kernels_cuda.hpp"
#include "edgeroof/kernels/cuda.hpp"
#include "layer_test_cases.hpp"

#include <gtest/gtest.h>

namespace {

using namespace edgeroof::dnn;

class CudaStream : public ::testing::Test {
protected:
  void SetUp() override {
    try {
      (void)edgeroof::kernels::cuda::probe_device(0);
    } catch (const edgeroof::kernels::cuda::Unavailable& e) {
      EDGEROOF_DEVICE_MISSING(e.what());
    }
    EDGEROOF_CUDA_CHECK(cudaStreamCreate(&m_stream));
  }
  void TearDown() override {
    if (m_stream != nullptr) (void)cudaStreamDestroy(m_stream);
  }
  cudaStream_t m_stream = nullptr;
};

TEST_F(CudaStream, EveryOpAndPassMatchesTheReferenceInFp32AndFp16) {
  for (const char* dtype : {"fp32", "fp16"}) {
    for (auto c : layer_cases::small_layer_cases()) {
      c.layer.dtype = dtype;
      SCOPED_TRACE(c.layer.name + " " + pass_token(c.pass, c.layer.op) + " " + dtype);
      std::string why;
      ASSERT_TRUE(cuda_layer_supported(c.layer, c.pass, &why)) << why;
      auto kernel = make_cuda_layer_kernel(c.layer, c.pass, m_stream);
      kernel->prepare();
      kernel->run();
      const double err = kernel->max_relative_error();
      EXPECT_LE(err, kernel->tolerance()) << kernel->algorithm();
      EXPECT_FALSE(kernel->algorithm().empty());
    }
  }
  EXPECT_TRUE(cudnn_version().has_value());
}

// A ResNet-50 bottleneck convolution at batch 2: a shape where cuDNN's algorithm search has real
// choices (and workspaces), checked at sampled outputs.
TEST_F(CudaStream, ResnetConvolutionAllPasses) {
  const LayerCost l = layer_cases::conv("layer3.0.conv2", {2, 256, 14, 14}, 256, 3, 1, 1);
  for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
    SCOPED_TRACE(pass_token(pass, l.op));
    auto kernel = make_cuda_layer_kernel(l, pass, m_stream);
    kernel->prepare();
    for (int i = 0; i < 3; ++i) kernel->run();
    EXPECT_LE(kernel->max_relative_error(), kernel->tolerance()) << kernel->algorithm();
    EXPECT_EQ(kernel->algorithm().rfind("cudnn:", 0), 0u);
  }
}

TEST_F(CudaStream, UnsupportedDtypeIsOneClearError) {
  LayerCost l = layer_cases::conv("c", {1, 2, 5, 5}, 2, 3, 1, 1);
  l.dtype = "int8";
  try {
    (void)make_cuda_layer_kernel(l, Pass::forward, m_stream);
    FAIL() << "int8 has no GPU layer kernel";
  } catch (const LayerKernelError& e) {
    EXPECT_NE(std::string(e.what()).find("int8"), std::string::npos);
  }
}

}  // namespace

// The optimizer updates' grid-stride kernels, far into a run (Adam's bias corrections have moved),
// against the scalar reference, on a layer's weights and bias in one buffer.
TEST_F(CudaStream, OptimizerKernelsMatchTheReference) {
  for (const char* op : {"sgd", "sgd_momentum", "adam"}) {
    SCOPED_TRACE(op);
    LayerCost update;
    update.name = "fc/update";
    update.op = op;
    update.phase = "optimizer";
    update.inputs = {{1000, 2048}, {1000}};
    update.outputs = update.inputs;
    update.dtype = "fp32";
    auto kernel = make_cuda_optimizer_kernel(update, m_stream);
    EXPECT_EQ(kernel->parameters(), 1000 * 2048 + 1000);
    kernel->prepare();
    for (int i = 0; i < 50; ++i) kernel->run();
    EXPECT_LE(kernel->max_relative_error(), kernel->tolerance()) << kernel->algorithm();
    EXPECT_EQ(kernel->algorithm(), std::string("cuda:") + op + ":grid-stride");
  }
}
