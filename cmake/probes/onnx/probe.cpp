#include <onnx/onnx_pb.h>

int main() { return ONNX_NAMESPACE::ModelProto().ir_version() == 0 ? 0 : 1; }
