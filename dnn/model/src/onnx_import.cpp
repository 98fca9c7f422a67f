// ONNX import: libonnx reads the file and infers every tensor's shape; each node is then counted
// by the same Builder ops as the zoo. A node with no counting rule is named in `unsupported`.
#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/dnn/zoo.hpp"

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace edgeroof::dnn {
namespace {

// Ops that only change how elements are seen (or are no-ops at inference): no layer, like the
// zoo's views. Their outputs take the shapes shape inference gave them.
const std::set<std::string> kViews{"Reshape", "Flatten", "Squeeze",  "Unsqueeze", "Transpose", "Identity",
                                   "Dropout", "Shape",   "Constant", "Split",     "Slice",     "Cast"};
const std::map<std::string, std::string> kActivations{{"Relu", "relu"},
                                                      {"Sigmoid", "sigmoid"},
                                                      {"Tanh", "tanh"},
                                                      {"HardSwish", "hardswish"},
                                                      {"HardSigmoid", "hardsigmoid"},
                                                      {"Gelu", "gelu"},
                                                      {"Sqrt", "sqrt"},
                                                      {"Erf", "erf"},
                                                      {"Exp", "exp"},
                                                      {"Neg", "neg"},
                                                      {"Reciprocal", "reciprocal"},
                                                      {"Clip", "clip"},
                                                      {"LeakyRelu", "leaky_relu"}};
const std::map<std::string, std::string> kBinaryOps{{"Sub", "sub"}, {"Div", "div"}, {"Pow", "pow"}};
const std::map<std::string, std::string> kReductions{{"ReduceMean", "reduce_mean"}, {"ReduceSum", "reduce_sum"}};

std::vector<std::int64_t> ints(const onnx::NodeProto& node, const std::string& name,
                               std::vector<std::int64_t> fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  }
  return fallback;
}

std::int64_t integer(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.i();
  }
  return fallback;
}

std::string text(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.s();
  }
  return {};
}

// Whether every dimension of a tensor type is known; the shape goes to `out`.
bool known_shape(const onnx::TypeProto& type, Shape& out) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return false;
  out.clear();
  for (const auto& d : type.tensor_type().shape().dim()) {
    if (!d.has_dim_value()) return false;
    out.push_back(d.dim_value());
  }
  return true;
}

class Importer {
public:
  Importer(onnx::ModelProto model, const std::string& path, const WorkloadOptions& options)
      : m_model(std::move(model)), m_path(path), m_builder(model_name(path), options) {}

  Workload run() {
    set_batch();
    infer_shapes();
    const auto& g = m_model.graph();
    for (const auto& init : g.initializer()) {
      m_weights[init.name()] = Shape(init.dims().begin(), init.dims().end());
    }
    auto record = [&](const onnx::ValueInfoProto& vi, bool needs_grad) {
      Shape s;
      if (known_shape(vi.type(), s) && m_weights.count(vi.name()) == 0) m_tensors[vi.name()] = {s, needs_grad};
    };
    for (const auto& vi : g.input()) record(vi, false);
    for (const auto* list : {&g.value_info(), &g.output()}) {
      for (const auto& vi : *list) {
        Shape s;
        if (known_shape(vi.type(), s)) m_inferred[vi.name()] = s;
        if (vi.type().has_tensor_type()) m_elem_type[vi.name()] = vi.type().tensor_type().elem_type();
      }
    }
    for (int i = 0; i < g.node_size(); ++i) node(g.node(i), i);
    return m_builder.finish();
  }

private:
  static std::string model_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  // libonnx 1.12 propagates the values of integer shape arithmetic (Shape -> Gather -> Concat) but
  // its Reshape does not use them, so every shape after the first such Reshape stays unknown. Each
  // round fills in the Reshapes whose target is now known and infers again.
  void infer_shapes() {
    const onnx::ShapeInferenceOptions inference(false, 0, true);
    for (int round = 0; round < 256; ++round) {
      std::unordered_map<std::string, onnx::TensorShapeProto> values;  // propagated integer tensors
      try {
        onnx::shape_inference::InferShapes(m_model, onnx::OpSchemaRegistry::Instance(), inference, &values);
      } catch (const std::exception& e) {
        throw ModelError(m_path + ": ONNX shape inference failed: " + first_line(e.what()));
      }
      if (!fill_reshapes(values)) return;
    }
  }

  bool fill_reshapes(const std::unordered_map<std::string, onnx::TensorShapeProto>& values) {
    auto* g = m_model.mutable_graph();
    std::map<std::string, Shape> known;
    std::map<std::string, int> types;
    for (const auto* list : {&g->input(), &g->value_info(), &g->output()}) {
      for (const auto& vi : *list) {
        Shape sh;
        if (known_shape(vi.type(), sh)) known[vi.name()] = sh;
        if (vi.type().has_tensor_type()) types[vi.name()] = vi.type().tensor_type().elem_type();
      }
    }
    std::map<std::string, std::vector<std::int64_t>> constants;  // int64 initializers (targets)
    for (const auto& init : g->initializer()) {
      if (init.data_type() != onnx::TensorProto::INT64) continue;
      std::vector<std::int64_t> v(init.int64_data().begin(), init.int64_data().end());
      if (v.empty() && !init.raw_data().empty()) {
        v.resize(init.raw_data().size() / sizeof(std::int64_t));
        std::memcpy(v.data(), init.raw_data().data(), v.size() * sizeof(std::int64_t));
      }
      constants[init.name()] = v;
    }
    bool changed = false;
    for (const auto& n : g->node()) {
      if (n.op_type() != "Reshape" || n.input_size() < 2 || known.count(n.output(0)) || !known.count(n.input(0)))
        continue;
      std::vector<std::int64_t> target;
      if (const auto it = values.find(n.input(1)); it != values.end()) {
        for (const auto& d : it->second.dim()) {
          if (!d.has_dim_value()) return changed;
          target.push_back(d.dim_value());
        }
      } else if (const auto c = constants.find(n.input(1)); c != constants.end()) {
        target = c->second;
      } else {
        continue;
      }
      const Shape& in = known.at(n.input(0));
      // 0 copies the input's dimension, -1 takes what is left.
      double rest = element_count(in);
      int infer_at = -1;
      for (std::size_t i = 0; i < target.size(); ++i) {
        if (target[i] == 0 && i < in.size()) target[i] = in[i];
        if (target[i] == -1) {
          infer_at = static_cast<int>(i);
        } else if (target[i] > 0) {
          rest /= static_cast<double>(target[i]);
        }
      }
      if (infer_at >= 0) target[infer_at] = static_cast<std::int64_t>(rest);
      onnx::ValueInfoProto* vi = nullptr;  // the entry inference left without a shape, or a new one
      for (auto& existing : *g->mutable_value_info()) {
        if (existing.name() == n.output(0)) vi = &existing;
      }
      if (vi == nullptr) vi = g->add_value_info();
      vi->set_name(n.output(0));
      auto* t = vi->mutable_type()->mutable_tensor_type();
      t->mutable_shape()->clear_dim();
      t->set_elem_type(types.count(n.input(0)) ? types.at(n.input(0)) : onnx::TensorProto::FLOAT);
      for (auto d : target) t->mutable_shape()->add_dim()->set_dim_value(d);
      changed = true;
    }
    return changed;
  }

  // The batch (first) dimension of every graph input: a symbolic one takes options.batch; a
  // fixed one must equal it, since the file's shapes cannot be changed behind the user's back.
  void set_batch() {
    std::set<std::string> weights;
    for (const auto& init : m_model.graph().initializer()) weights.insert(init.name());
    const auto batch = m_builder.options().batch;
    for (auto& in : *m_model.mutable_graph()->mutable_input()) {
      if (weights.count(in.name()) || !in.type().has_tensor_type()) continue;
      auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      if (shape->dim_size() == 0) continue;
      auto* d0 = shape->mutable_dim(0);
      if (d0->has_dim_value() && d0->dim_value() != batch) {
        throw ModelError(m_path + ": input '" + in.name() + "' has a fixed batch of " +
                         std::to_string(d0->dim_value()) + "; use --batch " + std::to_string(d0->dim_value()) +
                         " or export with a dynamic batch axis");
      }
      d0->set_dim_value(batch);
      for (int i = 1; i < shape->dim_size(); ++i) {
        if (!shape->dim(i).has_dim_value()) {
          throw ModelError(m_path + ": input '" + in.name() + "' has a symbolic dimension '" +
                           shape->dim(i).dim_param() + "' other than the batch; export it with fixed sizes");
        }
      }
    }
  }

  // The inferred shape of a node output (after shape inference).
  bool inferred(const std::string& name, Shape& out) const {
    const auto it = m_inferred.find(name);
    if (it == m_inferred.end()) return false;
    out = it->second;
    return true;
  }

  const Tensor* tensor(const std::string& name) const {
    const auto it = m_tensors.find(name);
    return it == m_tensors.end() ? nullptr : &it->second;
  }
  const Shape* weight(const std::string& name) const {
    const auto it = m_weights.find(name);
    return it == m_weights.end() ? nullptr : &it->second;
  }

  void node(const onnx::NodeProto& n, int index) {
    const std::string name = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
    const std::string& op = n.op_type();
    const bool standard = n.domain().empty() || n.domain() == "ai.onnx";  // a custom domain has no rules here
    if (standard && (kViews.count(op) || shape_arithmetic(n))) {
      bool grad = false;
      for (const auto& in : n.input()) grad = grad || (tensor(in) != nullptr && tensor(in)->needs_grad);
      keep_inferred_outputs(n, grad);
      return;
    }
    const std::optional<Tensor> y = standard ? counted(n, name) : std::nullopt;
    if (!y) {
      // Listed, never counted as zero; its outputs keep their inferred shapes so that the nodes
      // after it are still counted.
      m_builder.unsupported(op);
      keep_inferred_outputs(n, true);
      return;
    }
    // The builder's shape must be what ONNX inferred; a disagreement means a rule is wrong for
    // this node, which must not pass silently.
    Shape expected;
    if (inferred(n.output(0), expected) && expected != y->shape) {
      throw ModelError(m_path + ": node '" + name + "' (" + op + "): counted shape " + shape_text(y->shape) +
                       " differs from ONNX's " + shape_text(expected));
    }
    m_tensors[n.output(0)] = *y;
  }

  void keep_inferred_outputs(const onnx::NodeProto& n, bool needs_grad) {
    for (const auto& out : n.output()) {
      Shape s;
      if (inferred(out, s)) m_tensors[out] = {s, needs_grad};
    }
  }

  // The layer a standard node counts as, or nothing where no rule covers it (op or its attributes).
  std::optional<Tensor> counted(const onnx::NodeProto& n, const std::string& name) {
    const std::string& op = n.op_type();
    const Tensor* x = n.input_size() > 0 ? tensor(n.input(0)) : nullptr;
    if (op == "Conv" && x != nullptr && n.input_size() >= 2 && weight(n.input(1)) && x->shape.size() == 4)
      return conv(n, name, *x);
    if ((op == "Gemm" || op == "MatMul") && x != nullptr && n.input_size() >= 2) return gemm(n, name, *x);
    if (kActivations.count(op) && x != nullptr) return m_builder.activation(name, kActivations.at(op), *x);
    if ((op == "Add" || op == "Mul" || kBinaryOps.count(op)) && n.input_size() == 2) return binary(n, name);
    if (kReductions.count(op) && x != nullptr) {
      Shape out;
      if (inferred(n.output(0), out)) return m_builder.reduce(name, kReductions.at(op), *x, out);
      return std::nullopt;
    }
    if (op == "BatchNormalization" && x != nullptr) return m_builder.batchnorm(name, *x);
    if (op == "LayerNormalization" && x != nullptr && integer(n, "axis", -1) == -1)
      return m_builder.layernorm(name, *x);
    if (op == "Softmax" && x != nullptr &&
        (integer(n, "axis", -1) == -1 || integer(n, "axis", -1) == static_cast<std::int64_t>(x->shape.size()) - 1))
      return m_builder.softmax(name, *x);
    if (op == "Concat") return concat(n, name);
    if (op == "Gather") return embedding(n, name);
    if (x != nullptr) return counted_shaped(n, name, *x);
    return std::nullopt;
  }

  // Pools, resizes and LSTMs: rules that look at the input's shape.
  std::optional<Tensor> counted_shaped(const onnx::NodeProto& n, const std::string& name, const Tensor& x) {
    const std::string& op = n.op_type();
    if ((op == "MaxPool" || op == "AveragePool") && x.shape.size() == 4 && symmetric(n)) {
      const auto k = ints(n, "kernel_shape", {1, 1});
      const auto s = ints(n, "strides", {1, 1});
      const auto p = ints(n, "pads", {0, 0, 0, 0});
      const PoolParams pp{{k[0], k[1]}, {s[0], s[1]}, {p[0], p[1]}};
      return op == "MaxPool" ? m_builder.maxpool(name, x, pp) : m_builder.avgpool(name, x, pp);
    }
    if (op == "GlobalAveragePool" && x.shape.size() == 4) return m_builder.global_avgpool(name, x);
    if ((op == "Resize" || op == "Upsample") && x.shape.size() == 4 &&
        (text(n, "mode").empty() || text(n, "mode") == "nearest")) {
      Shape out;
      if (inferred(n.output(0), out) && out.size() == 4 && out[2] % x.shape[2] == 0 &&
          out[2] / x.shape[2] == out[3] / x.shape[3] && out[3] % x.shape[3] == 0) {
        return m_builder.upsample(name, x, out[2] / x.shape[2]);
      }
      return std::nullopt;
    }
    if (op == "LSTM" && x.shape.size() == 3 && (text(n, "direction").empty() || text(n, "direction") == "forward")) {
      const Tensor h = m_builder.lstm(name, x, integer(n, "hidden_size", 0));
      return Tensor{{h.shape[0], 1, h.shape[1], h.shape[2]}, h.needs_grad};  // ONNX Y: [T, directions, N, H]
    }
    return std::nullopt;
  }

  // An embedding lookup: Gather of rows (axis 0) of a 2-D weight table by a tensor of indices.
  std::optional<Tensor> embedding(const onnx::NodeProto& n, const std::string& name) {
    if (n.input_size() != 2 || integer(n, "axis", 0) != 0) return std::nullopt;
    const Shape* table = weight(n.input(0));
    const Tensor* indices = tensor(n.input(1));
    if (table == nullptr || table->size() != 2 || indices == nullptr) return std::nullopt;
    return m_builder.embedding(name, *indices, (*table)[0], (*table)[1]);
  }

  std::optional<Tensor> concat(const onnx::NodeProto& n, const std::string& name) {
    std::vector<Tensor> xs;
    for (const auto& in : n.input()) {
      if (tensor(in) == nullptr) return std::nullopt;
      xs.push_back(*tensor(in));
    }
    return m_builder.concat(name, xs, integer(n, "axis", 0));
  }

  // Integer arithmetic on shapes (Shape -> Gather -> Concat -> Reshape in exported graphs): every
  // output a scalar or vector of integers. It is not work of the network: free, like a view.
  bool shape_arithmetic(const onnx::NodeProto& n) const {
    if (n.output_size() == 0) return false;
    for (const auto& out : n.output()) {
      const auto t = m_elem_type.find(out);
      Shape s;
      if (t == m_elem_type.end() || (t->second != onnx::TensorProto::INT64 && t->second != onnx::TensorProto::INT32) ||
          !inferred(out, s) || s.size() > 1) {
        return false;
      }
    }
    return true;
  }

  static bool symmetric(const onnx::NodeProto& n) {
    const auto p = ints(n, "pads", {0, 0, 0, 0});
    return p.size() == 4 && p[0] == p[2] && p[1] == p[3] && text(n, "auto_pad").empty() &&
           integer(n, "ceil_mode", 0) == 0 && ints(n, "dilations", {1, 1}) == std::vector<std::int64_t>{1, 1} &&
           ints(n, "kernel_shape", {1, 1}).size() == 2 && ints(n, "strides", {1, 1}).size() == 2;  // 2-D, as read
  }

  std::optional<Tensor> conv(const onnx::NodeProto& n, const std::string& name, const Tensor& x) {
    const Shape& w = *weight(n.input(1));
    if (w.size() != 4 || !symmetric_conv(n)) return std::nullopt;
    Conv2dParams p;
    p.out_channels = w[0];
    p.kernel = {w[2], w[3]};
    const auto s = ints(n, "strides", {1, 1}), pad = ints(n, "pads", {0, 0, 0, 0}), d = ints(n, "dilations", {1, 1});
    p.stride = {s[0], s[1]};
    p.padding = {pad[0], pad[1]};
    p.dilation = {d[0], d[1]};
    p.groups = integer(n, "group", 1);
    p.bias = n.input_size() >= 3 && !n.input(2).empty();
    return m_builder.conv2d(name, x, p);
  }

  static bool symmetric_conv(const onnx::NodeProto& n) {
    const auto p = ints(n, "pads", {0, 0, 0, 0});
    const std::string autopad = text(n, "auto_pad");
    return p.size() == 4 && p[0] == p[2] && p[1] == p[3] && (autopad.empty() || autopad == "NOTSET") &&
           ints(n, "strides", {1, 1}).size() == 2 && ints(n, "dilations", {1, 1}).size() == 2;  // 2-D, as read
  }

  // Gemm and MatMul with a weight initializer are linear layers (weight [K, N] or, transposed,
  // [N, K]); between two activations they are matmul (2-D) or bmm (3-D).
  std::optional<Tensor> gemm(const onnx::NodeProto& n, const std::string& name, const Tensor& a) {
    const bool trans_a = integer(n, "transA", 0) != 0, trans_b = integer(n, "transB", 0) != 0;
    if (trans_a) return std::nullopt;
    if (const Shape* w = weight(n.input(1))) {
      if (w->size() != 2) return std::nullopt;
      const std::int64_t out = trans_b ? (*w)[0] : (*w)[1];
      const bool bias = n.op_type() == "Gemm" && n.input_size() >= 3 && !n.input(2).empty();
      return m_builder.linear(name, a, out, bias);
    }
    const Tensor* b = tensor(n.input(1));
    if (b == nullptr || n.op_type() != "MatMul") return std::nullopt;
    if (a.shape.size() == 2 && b->shape.size() == 2) return m_builder.matmul(name, a, *b);
    if (a.shape.size() == 3 && b->shape.size() == 3) return m_builder.bmm(name, a, *b);
    if (a.shape.size() == 4 && b->shape.size() == 4 && a.shape[0] == b->shape[0] && a.shape[1] == b->shape[1]) {
      const auto batches = mul_int64(a.shape[0], a.shape[1]);
      if (!batches) throw ModelError(m_path + ": " + name + ": " + shape_text(a.shape) + " does not fit in 64 bits");
      const Tensor y = m_builder.bmm(name, m_builder.view(a, {*batches, a.shape[2], a.shape[3]}),
                                     m_builder.view(*b, {*batches, b->shape[2], b->shape[3]}));
      return m_builder.view(y, {a.shape[0], a.shape[1], a.shape[2], b->shape[3]});
    }
    return std::nullopt;
  }

  // Add and Mul with numpy broadcasting of the smaller operand (an activation or a constant).
  std::optional<Tensor> binary(const onnx::NodeProto& n, const std::string& name) {
    auto operand = [&](const std::string& in) -> std::optional<Tensor> {
      if (const Tensor* t = tensor(in)) return *t;
      if (const Shape* w = weight(in)) return Tensor{*w, false};
      return std::nullopt;
    };
    auto a = operand(n.input(0)), b = operand(n.input(1));
    if (!a || !b) return std::nullopt;
    const bool swapped = element_count(a->shape) < element_count(b->shape);
    if (swapped) std::swap(a, b);
    if (b->shape.size() > a->shape.size()) return std::nullopt;
    b->shape.insert(b->shape.begin(), a->shape.size() - b->shape.size(), 1);  // left-pad with 1s
    for (std::size_t i = 0; i < a->shape.size(); ++i) {
      if (b->shape[i] != a->shape[i] && b->shape[i] != 1) return std::nullopt;
    }
    if (n.op_type() == "Add") return m_builder.add(name, *a, *b);
    if (n.op_type() == "Mul") return m_builder.mul(name, *a, *b);
    if (swapped && n.op_type() != "Mul") return std::nullopt;  // a - b with b the larger: no rule
    return m_builder.binary(name, kBinaryOps.at(n.op_type()), *a, *b);
  }

  onnx::ModelProto m_model;
  std::string m_path;
  Builder m_builder;
  std::map<std::string, Tensor> m_tensors;  // activations by value name
  std::map<std::string, Shape> m_weights;   // initializers by name
  std::map<std::string, Shape> m_inferred;  // fully known shapes after shape inference
  std::map<std::string, int> m_elem_type;   // onnx::TensorProto::DataType by value name
};

}  // namespace

bool onnx_available() { return true; }

Workload import_onnx(const std::string& path, const WorkloadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path + ": cannot open");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) throw ModelError(path + ": not an ONNX model (protobuf parse failed)");
  if (!model.has_graph()) throw ModelError(path + ": ONNX model without a graph");
  return Importer(std::move(model), path, options).run();
}

}  // namespace edgeroof::dnn
