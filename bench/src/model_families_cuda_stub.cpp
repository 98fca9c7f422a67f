// Built without CUDA: no GPU model families (register_cuda_families already says why).
#include "model_families.hpp"

namespace edgeroof::bench {

int register_cuda_model_families(const std::vector<dnn::Workload>&, Context& context) {
  context["models.cuda.skipped"] = "built without CUDA; configure with -DEDGEROOF_ENABLE_CUDA=ON";
  return 0;
}

}  // namespace edgeroof::bench
