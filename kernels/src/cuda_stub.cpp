// Built when CUDA is off: the same entry points, saying how to turn CUDA on.
#include "edgeroof/kernels/cuda.hpp"

namespace edgeroof::kernels::cuda {

DeviceInfo probe_device(int /*index*/) {
  throw Unavailable(
      "edgeroof was built without CUDA: install the CUDA toolkit and configure with "
      "-DEDGEROOF_ENABLE_CUDA=ON");
}

}  // namespace edgeroof::kernels::cuda
