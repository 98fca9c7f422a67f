// Built without CUDA: the GPU families are absent and the context says how to get them.
#include "edgeroof/kernels/cuda.hpp"
#include "families.hpp"

#include "edgeroof/results/keys.hpp"

namespace edgeroof::bench {

bool register_cuda_families(const Options& options, Context& context) {
  try {
    (void)kernels::cuda::probe_device(options.cuda_device);
  } catch (const kernels::cuda::Error& e) {
    context[results::context::cuda_skipped] = e.what();
  }
  return false;
}

}  // namespace edgeroof::bench
