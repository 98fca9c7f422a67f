// Built without oneDNN: the CPU layer kernels are absent and every request says how to get them.
#include "edgeroof/dnn/layer_kernels.hpp"
#include "layer_problem.hpp"

namespace edgeroof::dnn {

bool cpu_layer_supported(const LayerCost& l, Pass pass, std::string* why) {
  if (l.dtype != "fp32") {
    if (why) *why = "the oneDNN layer kernels run fp32 only, not " + l.dtype;
    return false;
  }
  return detail::layer_supported(l, pass, why);
}

std::unique_ptr<LayerKernel> make_cpu_layer_kernel(const LayerCost& l, Pass) {
  throw LayerKernelError("layer '" + l.name +
                         "': edgeroof was built without oneDNN; install it (Debian: libdnnl-dev) and "
                         "configure with -DEDGEROOF_ENABLE_ONEDNN=ON");
}

std::optional<std::string> onednn_version() { return std::nullopt; }

}  // namespace edgeroof::dnn
