// Built without CUDA: no GPU layer families (register_cuda_families already says why).
#include "layer_families.hpp"

namespace edgeroof::bench {

int register_cuda_layer_families(const std::shared_ptr<const std::vector<ModelLayers>>&, const Options&,
                                 Context& context) {
  context["layers.cuda.skipped"] = "built without CUDA; configure with -DEDGEROOF_ENABLE_CUDA=ON";
  return 0;
}

}  // namespace edgeroof::bench
