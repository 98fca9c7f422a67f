// ONNX import when the build has no libonnx: every call says how to get it.
#include "edgeroof/dnn/zoo.hpp"

namespace edgeroof::dnn {

bool onnx_available() { return false; }

Workload import_onnx(const std::string& path, const WorkloadOptions&) {
  throw ModelError(path +
                   ": this edgeroof was built without ONNX import; install libonnx-dev and protobuf "
                   "(Debian: apt install libonnx-dev libprotobuf-dev) and configure with -DEDGEROOF_ENABLE_ONNX=ON");
}

}  // namespace edgeroof::dnn
