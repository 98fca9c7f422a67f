// Fuzz body for rooflines.json as predict and tune read it (reports::load_rooflines, from this
// process's scratch file), then what they do with it: a small fixed workload predicted
// and costed in every mode on both backends, the mode tuned, its nvpmodel.conf stanza written.
// Whatever loads must give latencies and energies that are numbers, never NaN or negative
// (fuzz_predict.cpp).
#include "edgeroof/reports/fit.hpp"
#include "fuzz_check.hpp"
#include "fuzz_predict.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace edgeroof::reports;

// A convolution (GEMM-like: a tensor ceiling where one was measured) and a pointwise layer.
edgeroof::dnn::Workload tiny_workload(const std::string& dtype) {
  edgeroof::dnn::Workload w;
  w.model = "tiny";
  w.dtype = dtype;
  edgeroof::dnn::LayerCost conv;
  conv.name = "conv";
  conv.op = "conv2d";
  conv.phase = "forward";
  conv.flops = 2.0e9;
  conv.bytes = 1.0e7;
  conv.dtype = dtype;
  conv.tensor_op = true;
  edgeroof::dnn::LayerCost relu = conv;
  relu.name = "relu";
  relu.op = "relu";
  relu.flops = 1.0e6;
  relu.bytes = 8.0e6;
  relu.tensor_op = false;
  w.layers = {conv, relu};
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Rooflines r;
  try {
    r = load_rooflines(edgeroof::fuzz::write_scratch({reinterpret_cast<const char*>(data), size}, ".json"));
  } catch (const InputError&) {
    return 0;
  }
  // What was read must be written back and read again as the same modes.
  try {
    const auto again = nlohmann::json::parse(edgeroof::fuzz::written(to_json(r)));
    EDGEROOF_FUZZ_REQUIRE(rooflines_from_json(again, "again.json").modes.size() == r.modes.size());
  } catch (const InputError& e) {
    EDGEROOF_FUZZ_FAIL("a loaded rooflines file, written back, is refused", e.what());
  }
  for (const char* backend : {"cuda", "cpu"}) {
    for (const char* dtype : {"fp32", "fp16"}) edgeroof::fuzz::predict_and_tune(tiny_workload(dtype), r, backend);
  }
  return 0;
}
