// Built with CUDA but without cuDNN: GEMM layers still run through cuBLAS; every other layer says
// how to enable cuDNN.
#include "layer_cuda.hpp"

namespace edgeroof::dnn {
namespace detail {

bool have_cudnn() { return false; }

std::unique_ptr<LayerKernel> make_cudnn_layer_kernel(const LayerCost& l, Pass, cudaStream_t) {
  throw LayerKernelError("layer '" + l.name +
                         "': edgeroof was built without cuDNN; configure with -DEDGEROOF_ENABLE_CUDNN=ON "
                         "(and CUDNN_ROOT=<cuDNN install> if it is not under the CUDA toolkit)");
}

}  // namespace detail

std::optional<std::string> cudnn_version() { return std::nullopt; }

}  // namespace edgeroof::dnn
