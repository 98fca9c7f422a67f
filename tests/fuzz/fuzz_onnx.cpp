// Fuzz body for the ONNX importer (dnn::import_onnx): the input is the bytes of an .onnx file,
// written to a scratch file of this process because the importer reads a path. Imported for
// inference at batch 1 and for an Adam training step at batch 2 in fp16. ModelError is the
// documented refusal (unreadable protobuf, failed shape inference, a fixed batch that differs);
// a model that imports must hold counts predict can use and survive its own workload table.
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/dnn/zoo.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace edgeroof;

void check_import(const dnn::Workload& w) {
  fuzz::check_counts(w);
  for (const auto& op : w.unsupported) EDGEROOF_FUZZ_REQUIRE(!op.empty());
  try {
    const auto again = dnn::workload_from_json(nlohmann::json::parse(dnn::to_json(w).dump()), "again.json");
    EDGEROOF_FUZZ_REQUIRE(again.layers.size() == w.layers.size());
  } catch (const dnn::ModelError&) {
    EDGEROOF_FUZZ_REQUIRE(!"an imported model's workload table is refused by its reader");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_scratch({reinterpret_cast<const char*>(data), size}, ".onnx");
  dnn::WorkloadOptions inference;
  dnn::WorkloadOptions training;
  training.batch = 2;
  training.dtype = "fp16";
  training.train = "adam";
  for (const auto& options : {inference, training}) {
    try {
      check_import(dnn::import_onnx(path, options));
    } catch (const dnn::ModelError&) {
      // not a model this importer can read
    }
  }
  return 0;
}
