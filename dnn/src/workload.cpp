#include "edgeroof/dnn/workload.hpp"

#include "edgeroof/dnn/checked.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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

namespace {

using Fields = JsonFields<ModelError>;
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

std::vector<Shape> shapes_of(const Fields& f, const std::string& key) {
  std::vector<Shape> out;
  if (!f.has(key)) return out;
  const json& list = f.array(key);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = f.element(key, i);
    if (!list[i].is_array()) f.fail_path(at, " is not an array of dimensions");
    Shape s;
    for (std::size_t d = 0; d < list[i].size(); ++d)
      s.push_back(f.integer_at(list[i][d], at + "[" + std::to_string(d) + "]", 0, kMaxInt64));
    out.push_back(std::move(s));
  }
  return out;
}

std::map<std::string, std::vector<std::int64_t>> attrs_of(const Fields& f) {
  std::map<std::string, std::vector<std::int64_t>> out;
  if (!f.has("attrs")) return out;
  const Fields attrs = f.child("attrs");
  for (const auto& [key, values] : f.value("attrs").items()) {
    if (!values.is_array()) attrs.fail(key, " is not an array of whole numbers");
    auto& slot = out[key];
    for (std::size_t i = 0; i < values.size(); ++i)
      slot.push_back(
          attrs.integer_at(values[i], attrs.element(key, i), std::numeric_limits<std::int64_t>::min(), kMaxInt64));
  }
  return out;
}

LayerCost layer_of(const json& j, const std::string& origin, std::size_t index, const std::string& dtype) {
  std::string where = origin + ": layers[" + std::to_string(index) + "]";
  if (j.is_object() && j.contains("name") && j["name"].is_string() && !j["name"].get<std::string>().empty())
    where += " (" + excerpt(j["name"].get<std::string>()) + ")";
  const Fields f(j, where + ": ");
  LayerCost l;
  l.name = f.string("name");
  l.op = f.string("op");
  l.phase = f.optional_string("phase").value_or("forward");
  l.inputs = shapes_of(f, "inputs");
  l.outputs = shapes_of(f, "outputs");
  // Counts are whole numbers that fit in 64 bits, as the builder makes them.
  l.flops = static_cast<double>(f.integer("flops", 0, kMaxInt64));
  l.bytes = static_cast<double>(f.integer("bytes", 0, kMaxInt64));
  l.dtype = f.optional_string("dtype").value_or(dtype);
  l.tensor_op = f.optional_bool("tensor_op").value_or(false);
  l.attrs = attrs_of(f);
  return l;
}

// The totals are derived; a table whose totals disagree with its layers was edited by hand.
void check_total(const Fields& totals, const std::string& key, double sum) {
  const auto given = totals.optional_number(key, Sign::non_negative);
  if (given && std::abs(*given - sum) > 1e-9 * std::max(std::abs(sum), 1.0)) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", sum);
    totals.fail(key, " = " + totals.value(key).dump() + " is not the sum of the layers (" + buf + ")");
  }
}

}  // namespace

Workload workload_from_json(const json& doc, const std::string& origin) {
  if (!doc.is_object()) throw ModelError(origin + ": not a workload table (not a JSON object)");
  const Fields f(doc, origin + ": ");
  if (!doc.contains("layers")) throw ModelError(origin + ": not a workload table (no \"layers\" array)");
  const json& layers = f.array("layers");
  if (layers.empty()) f.fail("layers", " is empty: nothing to predict");
  Workload w;
  w.model = f.optional_string("model").value_or("");
  w.batch = f.optional_integer("batch", 1, kMaxInt64).value_or(1);
  w.dtype = f.optional_string("dtype").value_or("fp32");
  w.phase = f.optional_string("phase").value_or("inference");
  w.unsupported = f.strings("unsupported");
  for (std::size_t i = 0; i < layers.size(); ++i) w.layers.push_back(layer_of(layers[i], origin, i, w.dtype));
  if (f.has("totals")) {
    const Fields totals = f.child("totals");
    check_total(totals, "flops", w.total_flops());
    check_total(totals, "bytes", w.total_bytes());
  }
  return w;
}

}  // namespace edgeroof::dnn
