// The cuBLAS checking macro, shared by the tensor-core GEMMs and the GPU layer kernels: a failed
// call throws kernels::cuda::Error naming the call, file:line and cuBLAS's message.
#pragma once

#include "edgeroof/kernels/cuda.hpp"

#include <cublas_v2.h>

namespace edgeroof::kernels::cuda::detail {

inline void check_cublas(cublasStatus_t rc, const char* call, const char* file, int line) {
  if (rc != CUBLAS_STATUS_SUCCESS)
    throw_error("cuBLAS", static_cast<int>(rc), cublasGetStatusString(rc), call, file, line);
}

}  // namespace edgeroof::kernels::cuda::detail

#define EDGEROOF_CUBLAS_CHECK(call) ::edgeroof::kernels::cuda::detail::check_cublas((call), #call, __FILE__, __LINE__)
