// Fuzz body for the ONNX importer (dnn::import_onnx): the input is the bytes of an .onnx file,
// written to a scratch file of this process because the importer reads a path. Imported for
// inference at batch 1 and for an Adam training step at batch 2 in fp16. ModelError is the
// documented refusal (unreadable protobuf, failed shape inference, a fixed batch that differs);
// a model that imports must hold counts predict can use, and its workload table must read back.
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
  // A model with no countable layer imports (its table says so), but there is nothing to predict
  // from that table: its reader refuses it, rightly.
  if (w.layers.empty()) return;
  try {
    const auto again = dnn::workload_from_json(nlohmann::json::parse(fuzz::written(dnn::to_json(w))), "again.json");
    EDGEROOF_FUZZ_REQUIRE(again.layers.size() == w.layers.size());
  } catch (const dnn::ModelError& e) {
    EDGEROOF_FUZZ_FAIL("an imported model's workload table is refused by its reader", e.what());
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
