// The model zoo and the ONNX importer behind build_workload() (workload.hpp).
#pragma once

#include "edgeroof/dnn/ops.hpp"

#include <string>
#include <vector>

namespace edgeroof::dnn {

struct ZooModel {
  std::string name;
  std::string description;  // source and input shape, for `edgeroof model --list`
  void (*build)(Builder&);
  bool has_sequence;  // takes WorkloadOptions::seq_len (tokens, prompt, KV cache or steps)
};

[[nodiscard]] const std::vector<ZooModel>& zoo();
// Throws ModelError naming the zoo for an unknown name.
[[nodiscard]] Workload build_zoo_model(const std::string& name, const WorkloadOptions& options);

// Whether this build can read .onnx files (EDGEROOF_ENABLE_ONNX).
[[nodiscard]] bool onnx_available();
// Reads an .onnx file, infers its shapes for options.batch and counts every node; a node it
// cannot count is listed in Workload::unsupported. Throws ModelError for an unreadable file or,
// in a build without ONNX, with how to enable it.
[[nodiscard]] Workload import_onnx(const std::string& path, const WorkloadOptions& options);

}  // namespace edgeroof::dnn
