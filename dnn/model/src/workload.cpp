#include "edgeroof/dnn/workload.hpp"

#include "edgeroof/dnn/checked.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <variant>

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

namespace {

using Attrs = std::map<std::string, std::vector<std::int64_t>>;

std::vector<std::int64_t> pair_values(const Pair& p) { return {p[0], p[1]}; }
std::int64_t flag(bool b) { return b ? 1 : 0; }

// The attrs each kind of parameters writes.
struct AttrsWriter {
  Attrs operator()(const std::monostate&) const { return {}; }
  Attrs operator()(const NormParams&) const { return {}; }
  Attrs operator()(const Conv2dParams& p) const {
    return {{"kernel", pair_values(p.kernel)},
            {"stride", pair_values(p.stride)},
            {"padding", pair_values(p.padding)},
            {"dilation", pair_values(p.dilation)},
            {"groups", {p.groups}},
            {"bias", {flag(p.bias)}}};
  }
  Attrs operator()(const PoolParams& p) const {
    return {{"kernel", pair_values(p.kernel)}, {"stride", pair_values(p.stride)}, {"padding", pair_values(p.padding)}};
  }
  Attrs operator()(const LinearParams& p) const { return {{"bias", {flag(p.bias)}}}; }
  Attrs operator()(const AttentionParams& p) const {
    return {{"heads", {p.heads}}, {"kv_heads", {p.kv_heads}}, {"causal", {flag(p.causal)}}};
  }
  Attrs operator()(const ConcatParams& p) const { return {{"axis", {p.axis}}}; }
  Attrs operator()(const UpsampleParams& p) const { return {{"scale", {p.scale, p.scale}}}; }
  Attrs operator()(const LstmParams& p) const { return {{"hidden", {p.hidden}}}; }
};

// The values of one attr, or nullptr when it is missing or empty (the field keeps its default).
const std::vector<std::int64_t>* attr_values(const Attrs& attrs, const char* key) {
  const auto it = attrs.find(key);
  return it == attrs.end() || it->second.empty() ? nullptr : &it->second;
}

// [a, b] -> {a, b}; [a] -> {a, a}.
void read_pair(const Attrs& attrs, const char* key, Pair& field) {
  if (const auto* v = attr_values(attrs, key)) field = {(*v)[0], v->size() >= 2 ? (*v)[1] : (*v)[0]};
}

template <class T>
void read_scalar(const Attrs& attrs, const char* key, T& field) {
  if (const auto* v = attr_values(attrs, key)) field = static_cast<T>((*v)[0]);  // bool: non-zero
}

// The ops whose parameters are one whole number.
LayerParams scalar_params(const std::string& op, const Attrs& attrs) {
  if (op == "concat") {
    ConcatParams p;
    read_scalar(attrs, "axis", p.axis);
    return p;
  }
  if (op == "upsample") {
    UpsampleParams p;
    read_scalar(attrs, "scale", p.scale);
    return p;
  }
  if (op == "lstm") {
    LstmParams p;
    read_scalar(attrs, "hidden", p.hidden);
    return p;
  }
  return {};
}

}  // namespace

Attrs attrs_of(const LayerParams& params) { return std::visit(AttrsWriter{}, params); }

LayerParams params_from_attrs(const std::string& op, const Attrs& attrs, const std::vector<Shape>& outputs) {
  if (op == "conv2d") {
    Conv2dParams p;
    if (!outputs.empty() && outputs[0].size() == 4) p.out_channels = outputs[0][1];
    read_pair(attrs, "kernel", p.kernel);
    read_pair(attrs, "stride", p.stride);
    read_pair(attrs, "padding", p.padding);
    read_pair(attrs, "dilation", p.dilation);
    read_scalar(attrs, "groups", p.groups);
    read_scalar(attrs, "bias", p.bias);
    return p;
  }
  if (op == "maxpool" || op == "avgpool") {
    PoolParams p;
    read_pair(attrs, "kernel", p.kernel);
    read_pair(attrs, "stride", p.stride);
    read_pair(attrs, "padding", p.padding);
    return p;
  }
  if (op == "batchnorm" || op == "layernorm" || op == "rmsnorm") return NormParams{};
  if (op == "linear") {
    LinearParams p;
    read_scalar(attrs, "bias", p.bias);
    return p;
  }
  if (op == "attention") {
    AttentionParams p;
    read_scalar(attrs, "heads", p.heads);
    read_scalar(attrs, "kv_heads", p.kv_heads);
    read_scalar(attrs, "causal", p.causal);
    return p;
  }
  return scalar_params(op, attrs);
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
                      {"attrs", attrs_of(l.params)}});
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

Attrs attrs_read(const Fields& f) {
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

LayerCost layer_of(const json& j, const std::string& origin, std::size_t index, const std::string& dtype, Step step) {
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
  l.params = params_from_attrs(l.op, attrs_read(f), l.outputs);
  l.step = step;
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
  const Step step = w.phase.rfind("training", 0) == 0 ? Step::training : Step::inference;
  for (std::size_t i = 0; i < layers.size(); ++i) w.layers.push_back(layer_of(layers[i], origin, i, w.dtype, step));
  if (f.has("totals")) {
    const Fields totals = f.child("totals");
    check_total(totals, "flops", w.total_flops());
    check_total(totals, "bytes", w.total_bytes());
  }
  return w;
}

}  // namespace edgeroof::dnn
