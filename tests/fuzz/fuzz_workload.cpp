// Fuzz body for workload tables (`edgeroof model --format json`, read by predict and tune
// --workload): dnn::workload_from_json after the JSON parse, as the CLI reads them, then the
// table predicted and tuned on two fixed, sane power modes (fuzz_predict.cpp). ModelError is the
// documented refusal; a table that loads must hold counts predict can use.
#include "edgeroof/dnn/workload.hpp"
#include "fuzz_check.hpp"
#include "fuzz_predict.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace edgeroof;

// Two Orin-like modes with every ceiling a table's dtypes may ask for, and energy on both backends.
reports::Rooflines fixed_rooflines() {
  reports::Rooflines r;
  for (const double scale : {1.0, 0.5}) {
    reports::RooflineMode m;
    m.key = scale == 1.0 ? "maxn" : "half";
    m.name = m.key;
    m.id = scale == 1.0 ? 0 : 1;
    m.gpu_hz = static_cast<std::int64_t>(1.3e9 * scale);
    m.cpu_online = 12;
    for (const char* dtype : {"fp32", "fp16", "bf16", "int8"}) {
      m.compute_flops_per_s[std::string("cuda/") + dtype] = {5.0e12 * scale, "compute", std::nullopt};
      m.compute_flops_per_s[std::string("cuda/") + dtype + "-tensor"] = {4.0e13 * scale, "compute", std::nullopt};
      m.compute_flops_per_s[std::string("cpu/") + dtype] = {3.0e11 * scale, "compute", std::nullopt};
    }
    m.bandwidth_bytes_per_s["cuda/dram"] = {1.5e11 * scale, "triad", std::nullopt};
    m.bandwidth_bytes_per_s["cpu/dram"] = {9.0e10 * scale, "triad", std::nullopt};
    for (const char* backend : {"cuda", "cpu"}) {
      reports::EnergyFit e;
      for (const char* dtype : {"fp32", "fp16", "bf16", "int8", "fp16-tensor", "fp32-tensor", "bf16-tensor"})
        e.eps_flop_J[dtype] = 7.0e-12 * scale;
      e.eps_byte_J["dram"] = 9.0e-11;
      e.static_W = 11.0 * scale;
      m.energy[backend] = e;
    }
    r.modes.push_back(m);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON, or a number beyond double (1e999): the CLI's InputError (model_args.cpp)
  }
  dnn::Workload w;
  try {
    w = dnn::workload_from_json(doc, "workload.json");
  } catch (const dnn::ModelError&) {
    return 0;
  }
  EDGEROOF_FUZZ_REQUIRE(w.batch >= 1);
  fuzz::check_counts(w);
  // What was read must be written back and read again as the same table.
  try {
    const auto again = dnn::workload_from_json(nlohmann::json::parse(fuzz::written(dnn::to_json(w))), "again.json");
    EDGEROOF_FUZZ_REQUIRE(again.layers.size() == w.layers.size() && again.total_flops() == w.total_flops());
  } catch (const dnn::ModelError& e) {
    EDGEROOF_FUZZ_FAIL("a loaded workload table, written back, is refused", e.what());
  }
  static const auto rooflines = fixed_rooflines();
  for (const char* backend : {"cuda", "cpu"}) fuzz::predict_and_tune(w, rooflines, backend);
  return 0;
}
