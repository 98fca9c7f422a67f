// Writes the .onnx seeds of the ONNX fuzz target from their protobuf text form
// (tests/data/fuzz/onnx-text/*.textproto), so the seeds stay reviewable and small:
//   onnx_seed IN.textproto OUT.onnx
// A float initializer given by its dims alone gets zeros, as many as its dims hold; the importer
// reads only the dims, but a real exporter writes the data.
#include <google/protobuf/text_format.h>
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: onnx_seed IN.textproto OUT.onnx\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  onnx::ModelProto model;
  if (!in || !google::protobuf::TextFormat::ParseFromString(text.str(), &model)) {
    std::fprintf(stderr, "onnx_seed: %s: not an ONNX model in protobuf text form\n", argv[1]);
    return 1;
  }
  for (auto& init : *model.mutable_graph()->mutable_initializer()) {
    if (init.data_type() != onnx::TensorProto::FLOAT || init.float_data_size() > 0 || !init.raw_data().empty())
      continue;
    long long elements = 1;
    for (const auto d : init.dims()) elements *= d;
    for (long long i = 0; i < elements; ++i) init.add_float_data(0.0f);
  }
  std::ofstream out(argv[2], std::ios::binary);
  if (!model.SerializeToOstream(&out)) {
    std::fprintf(stderr, "onnx_seed: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
