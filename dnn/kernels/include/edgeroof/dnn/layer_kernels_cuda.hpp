// GPU layer kernels: cuBLAS for the GEMMs of linear/matmul/bmm, cuDNN for convolution, pooling,
// activations, softmax, batchnorm and elementwise ops, and small CUDA kernels for the activations
// cuDNN's API has no mode for (GELU, hardswish). Only in builds with CUDA.
#pragma once

#include "edgeroof/config.hpp"
#include "edgeroof/dnn/layer_kernels.hpp"
#include "edgeroof/dnn/optimizer_kernels.hpp"

#if EDGEROOF_HAVE_CUDA
#include <cuda_runtime_api.h>

namespace edgeroof::dnn {

// Whether the GPU backend of this build can run the forward layer at this pass (fp32 and fp16;
// everything but GEMMs needs cuDNN); `why` gets the reason when it cannot.
[[nodiscard]] bool cuda_layer_supported(const LayerCost& forward_layer, Pass pass, std::string* why = nullptr);
// The kernel of a layer on the current CUDA device, enqueuing its work on `stream`. Throws
// LayerKernelError for an unsupported layer (or a build without cuDNN, saying how to enable it)
// and kernels::cuda::Error for a failed CUDA, cuBLAS or cuDNN call.
[[nodiscard]] std::unique_ptr<LayerKernel> make_cuda_layer_kernel(const LayerCost& forward_layer, Pass pass,
                                                                  cudaStream_t stream);
// The GPU kernel of an optimizer update (optimizer_supported() says which), enqueuing its steps
// on `stream`. Throws LayerKernelError for an unsupported update and kernels::cuda::Error for a
// failed CUDA call (an allocation that does not fit among them).
[[nodiscard]] std::unique_ptr<OptimizerKernel> make_cuda_optimizer_kernel(const LayerCost& update, cudaStream_t stream);
// cuDNN's version as loaded at run time ("9.19.0"), or nullopt without cuDNN.
[[nodiscard]] std::optional<std::string> cudnn_version();

}  // namespace edgeroof::dnn
#endif
