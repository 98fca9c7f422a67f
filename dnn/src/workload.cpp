#include "edgeroof/dnn/workload.hpp"

namespace edgeroof::dnn {

using nlohmann::json;

double Workload::total_flops() const {
  double s = 0.0;
  for (const auto& l : layers) s += l.flops;
  return s;
}

double Workload::total_bytes() const {
  double s = 0.0;
  for (const auto& l : layers) s += l.bytes;
  return s;
}

json to_json(const Workload& w) {
  json layers = json::array();
  for (const auto& l : w.layers) {
    layers.push_back({{"name", l.name},
                      {"op", l.op},
                      {"phase", l.phase},
                      {"inputs", l.inputs},
                      {"outputs", l.outputs},
                      {"flops", l.flops},
                      {"bytes", l.bytes},
                      {"dtype", l.dtype},
                      {"tensor_op", l.tensor_op},
                      {"attrs", l.attrs}});
  }
  return {{"model", w.model},
          {"batch", w.batch},
          {"dtype", w.dtype},
          {"phase", w.phase},
          {"layers", layers},
          {"totals", {{"flops", w.total_flops()}, {"bytes", w.total_bytes()}, {"complete", w.complete()}}},
          {"unsupported", w.unsupported}};
}

Workload workload_from_json(const json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("layers") || !doc["layers"].is_array()) {
    throw ModelError(origin + ": not a workload table (no \"layers\" array)");
  }
  Workload w;
  try {
    w.model = doc.value("model", std::string());
    w.batch = doc.value("batch", std::int64_t{1});
    w.dtype = doc.value("dtype", std::string("fp32"));
    w.phase = doc.value("phase", std::string("inference"));
    if (doc.contains("unsupported")) w.unsupported = doc["unsupported"].get<std::vector<std::string>>();
    for (const auto& j : doc["layers"]) {
      LayerCost l;
      l.name = j.at("name").get<std::string>();
      l.op = j.at("op").get<std::string>();
      l.phase = j.value("phase", std::string("forward"));
      if (j.contains("inputs")) l.inputs = j["inputs"].get<std::vector<Shape>>();
      if (j.contains("outputs")) l.outputs = j["outputs"].get<std::vector<Shape>>();
      l.flops = j.at("flops").get<double>();
      l.bytes = j.at("bytes").get<double>();
      l.dtype = j.value("dtype", w.dtype);
      l.tensor_op = j.value("tensor_op", false);
      if (j.contains("attrs")) l.attrs = j["attrs"].get<std::map<std::string, std::vector<std::int64_t>>>();
      w.layers.push_back(std::move(l));
    }
  } catch (const json::exception& e) {
    throw ModelError(origin + ": malformed workload table (" + std::string(e.what()) + ")");
  }
  return w;
}

}  // namespace edgeroof::dnn
