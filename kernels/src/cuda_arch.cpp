// Facts about CUDA architectures that hold whether or not this build has CUDA.
#include "edgeroof/kernels/cuda.hpp"

namespace edgeroof::kernels::cuda {

int fp32_lanes_per_sm(int cc_major, int cc_minor) {
  switch (cc_major) {
  case 7:
    return 64;  // Volta, Turing
  case 8:
    return cc_minor == 0 ? 64 : 128;  // A100 has 64; GA10x and Orin (8.7) have 128
  case 9:
    return 128;  // Hopper
  case 10:
  case 11:
  case 12:
    return 128;  // Blackwell, Thor
  default:
    return 0;
  }
}

}  // namespace edgeroof::kernels::cuda
