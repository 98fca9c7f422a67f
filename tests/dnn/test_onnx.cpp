// ONNX import: a model written with the protobuf API gives the same counts as the same model
// built from the ops; an op without a counting rule is reported, not dropped.
#include "edgeroof/dnn/zoo.hpp"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>

namespace edgeroof::dnn {
namespace {

namespace fs = std::filesystem;

void set_ints(onnx::NodeProto* n, const std::string& name, std::initializer_list<std::int64_t> values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto* n, const std::string& name, std::int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in,
                      std::initializer_list<std::string> out, const std::string& name) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

void weight(onnx::GraphProto* g, const std::string& name, std::initializer_list<std::int64_t> dims) {
  auto* w = g->add_initializer();
  w->set_name(name);
  w->set_data_type(onnx::TensorProto::FLOAT);
  std::int64_t n = 1;
  for (auto d : dims) w->add_dims(d), n *= d;
  for (std::int64_t i = 0; i < n; ++i) w->add_float_data(0.01f);
}

// An opset-13 model with one float input "x" of shape [N, dims...] (N symbolic).
onnx::ModelProto model_with_input(const std::string& name, std::initializer_list<std::int64_t> dims) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name(name);
  auto* in = g->add_input();
  in->set_name("x");
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("N");
  for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

// x [N, 3, 16, 16] -> Conv 3x3 pad 1 stride 2 (8 ch, bias) -> Relu -> [extra op] ->
// GlobalAveragePool -> Flatten -> Gemm (transB, 8 -> 10, bias).
onnx::ModelProto classifier(const std::string& extra_op = "") {
  auto m = model_with_input("tiny", {3, 16, 16});
  auto* g = m.mutable_graph();
  weight(g, "conv.w", {8, 3, 3, 3});
  weight(g, "conv.b", {8});
  weight(g, "fc.w", {10, 8});
  weight(g, "fc.b", {10});
  auto* conv = node(g, "Conv", {"x", "conv.w", "conv.b"}, {"c"}, "conv");
  set_ints(conv, "kernel_shape", {3, 3});
  set_ints(conv, "pads", {1, 1, 1, 1});
  set_ints(conv, "strides", {2, 2});
  node(g, "Relu", {"c"}, {"r"}, "relu");
  std::string pooled_input = "r";
  if (!extra_op.empty()) {
    node(g, extra_op, {"r"}, {"e"}, "extra");
    pooled_input = "e";
  }
  node(g, "GlobalAveragePool", {pooled_input}, {"p"}, "pool");
  node(g, "Flatten", {"p"}, {"f"}, "flatten");
  auto* fc = node(g, "Gemm", {"f", "fc.w", "fc.b"}, {"y"}, "fc");
  set_int(fc, "transB", 1);
  g->add_output()->set_name("y");
  return m;
}

// The same model from the ops.
Workload classifier_from_ops(const WorkloadOptions& o) {
  Builder b("tiny", o);
  Conv2dParams p;
  p.out_channels = 8;
  p.kernel = {3, 3};
  p.padding = {1, 1};
  p.stride = {2, 2};
  p.bias = true;
  Tensor x = b.conv2d("conv", b.input({o.batch, 3, 16, 16}), p);
  x = b.activation("relu", "relu", x);
  x = b.global_avgpool("pool", x);
  b.linear("fc", b.view(x, {o.batch, 8}), 10, true);
  return b.finish();
}

class Onnx : public ::testing::Test {
protected:
  void TearDown() override { fs::remove(m_path); }
  std::string write(const onnx::ModelProto& m) {
    std::ofstream out(m_path, std::ios::binary);
    m.SerializeToOstream(&out);
    return m_path.string();
  }
  fs::path m_path = fs::temp_directory_path() / ("edgeroof_test_" + std::to_string(::getpid()) + ".onnx");
};

TEST_F(Onnx, SameCountsAsTheOpsForInferenceAndTraining) {
  const auto path = write(classifier());
  for (const std::string train : {"", "adam"}) {
    WorkloadOptions o;
    o.batch = 4;
    o.dtype = "fp16";
    o.train = train;
    const auto imported = build_workload(path, o);
    const auto expected = classifier_from_ops(o);
    ASSERT_EQ(imported.layers.size(), expected.layers.size()) << train;
    for (std::size_t i = 0; i < expected.layers.size(); ++i) {
      EXPECT_EQ(imported.layers[i].name, expected.layers[i].name);
      EXPECT_EQ(imported.layers[i].phase, expected.layers[i].phase);
      EXPECT_EQ(imported.layers[i].outputs, expected.layers[i].outputs) << expected.layers[i].name;
      EXPECT_DOUBLE_EQ(imported.layers[i].flops, expected.layers[i].flops) << expected.layers[i].name;
      EXPECT_DOUBLE_EQ(imported.layers[i].bytes, expected.layers[i].bytes) << expected.layers[i].name;
    }
    EXPECT_TRUE(imported.complete());
  }
  // By hand: conv 4x8x8x8 outputs x 27 multiply-adds + bias; relu 2048; pool 2048; fc 4x8x10 + bias.
  WorkloadOptions o;
  o.batch = 4;
  EXPECT_DOUBLE_EQ(build_workload(path, o).total_flops(), (2 * 2048 * 27 + 2048) + 2048 + 2048 + (2 * 320 + 40));
}

TEST_F(Onnx, UnsupportedOpIsListedAndTheRestCounted) {
  const auto path = write(classifier("Hardmax"));
  WorkloadOptions o;
  o.batch = 2;
  const auto w = build_workload(path, o);
  EXPECT_FALSE(w.complete());
  EXPECT_EQ(w.unsupported, (std::vector<std::string>{"Hardmax"}));
  // Every other layer is still there with its counts.
  EXPECT_DOUBLE_EQ(w.total_flops(), classifier_from_ops(o).total_flops());
  EXPECT_EQ(to_json(w).at("totals").at("complete"), false);
}

void scalar(onnx::GraphProto* g, const std::string& name, float value) {
  auto* w = g->add_initializer();
  w->set_name(name);
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_float_data(value);
}

// Layernorm and erf as exporters write them (opset 13): reductions and pointwise steps, with the
// integer shape arithmetic of a Reshape. Everything is counted; the shape arithmetic is free.
TEST_F(Onnx, DecomposedLayersAreCountedAndShapeArithmeticIsFree) {
  auto m = model_with_input("ln", {4, 6});
  auto* g = m.mutable_graph();
  scalar(g, "two", 2.0f);
  scalar(g, "eps", 1e-5f);
  weight(g, "gamma", {6});
  weight(g, "beta", {6});
  set_ints(node(g, "ReduceMean", {"x"}, {"mean"}, "mean"), "axes", {-1});
  node(g, "Sub", {"x", "mean"}, {"d"}, "sub");
  node(g, "Pow", {"d", "two"}, {"d2"}, "pow");
  set_ints(node(g, "ReduceMean", {"d2"}, {"var"}, "var"), "axes", {-1});
  node(g, "Add", {"var", "eps"}, {"ve"}, "add_eps");
  node(g, "Sqrt", {"ve"}, {"std"}, "sqrt");
  node(g, "Div", {"d", "std"}, {"xhat"}, "div");
  node(g, "Mul", {"xhat", "gamma"}, {"scaled"}, "mul_gamma");
  node(g, "Add", {"scaled", "beta"}, {"ln"}, "add_beta");
  node(g, "Erf", {"ln"}, {"e"}, "erf");
  node(g, "Shape", {"x"}, {"shape"}, "shape");
  node(g, "Reshape", {"e", "shape"}, {"y"}, "reshape");
  node(g, "Relu", {"y"}, {"z"}, "relu");
  g->add_output()->set_name("z");
  const auto path = write(m);
  WorkloadOptions o;
  o.batch = 2;
  const auto w = build_workload(path, o);
  EXPECT_TRUE(w.complete()) << "unsupported: " << (w.unsupported.empty() ? "" : w.unsupported.front());
  // 48 elements in 8 rows: every full-size step 1 FLOP per element (reductions: adds and the
  // divide), the two steps on the 8 row statistics 1 per row, erf and relu 48 each.
  EXPECT_EQ(w.layers.size(), 11u);
  EXPECT_DOUBLE_EQ(w.total_flops(), 48.0 * 7 + 8 * 2 + 48 * 2);
  EXPECT_EQ(w.layers.back().outputs.front(), (Shape{2, 4, 6}));  // the Reshape's shape came through
}

// Batchnorm, pooling, a residual add, nearest resize, concat, a MatMul layer with its bias added
// separately (as exporters write nn.Linear without Gemm) and softmax.
TEST_F(Onnx, DetectorLikeBlockMatchesTheOps) {
  auto m = model_with_input("block", {4, 8, 8});
  auto* g = m.mutable_graph();
  weight(g, "conv.w", {8, 4, 1, 1});
  for (const char* p : {"bn.scale", "bn.bias", "bn.mean", "bn.var"}) weight(g, p, {8});
  weight(g, "fc.w", {16, 5});
  weight(g, "fc.b", {5});
  auto* scales = g->add_initializer();
  scales->set_name("scales");
  scales->set_data_type(onnx::TensorProto::FLOAT);
  scales->add_dims(4);
  for (float v : {1.0f, 1.0f, 2.0f, 2.0f}) scales->add_float_data(v);
  set_ints(node(g, "Conv", {"x", "conv.w"}, {"c"}, "conv"), "kernel_shape", {1, 1});
  node(g, "BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"b"}, "bn");
  node(g, "Relu", {"b"}, {"r"}, "relu");
  auto* pool = node(g, "MaxPool", {"r"}, {"p"}, "pool");
  set_ints(pool, "kernel_shape", {3, 3});
  set_ints(pool, "pads", {1, 1, 1, 1});
  node(g, "Add", {"p", "r"}, {"a"}, "add");
  node(g, "Resize", {"a", "", "scales"}, {"u"}, "up");
  set_int(node(g, "Concat", {"u", "u"}, {"cat"}, "cat"), "axis", 1);
  node(g, "GlobalAveragePool", {"cat"}, {"gap"}, "gap");
  node(g, "Flatten", {"gap"}, {"f"}, "flatten");
  node(g, "MatMul", {"f", "fc.w"}, {"mm"}, "fc");
  node(g, "Add", {"mm", "fc.b"}, {"logits"}, "fc_bias");
  set_int(node(g, "Softmax", {"logits"}, {"y"}, "softmax"), "axis", -1);
  g->add_output()->set_name("y");
  const auto path = write(m);

  WorkloadOptions o;
  o.batch = 3;
  Builder b("block", o);
  Conv2dParams cp;
  cp.out_channels = 8;
  const Tensor r = b.activation("relu", "relu", b.batchnorm("bn", b.conv2d("conv", b.input({3, 4, 8, 8}), cp)));
  const Tensor a = b.add("add", b.maxpool("pool", r, {{3, 3}, {1, 1}, {1, 1}}), r);
  const Tensor u = b.upsample("up", a, 2);
  const Tensor gap = b.global_avgpool("gap", b.concat("cat", {u, u}, 1));
  const Tensor logits = b.add("fc_bias", b.linear("fc", b.view(gap, {3, 16}), 5, false), b.input({1, 5}));
  b.softmax("softmax", logits);
  const auto expected = b.finish();

  const auto imported = build_workload(path, o);
  EXPECT_TRUE(imported.complete());
  ASSERT_EQ(imported.layers.size(), expected.layers.size());
  for (std::size_t i = 0; i < expected.layers.size(); ++i) {
    EXPECT_EQ(imported.layers[i].op, expected.layers[i].op);
    EXPECT_EQ(imported.layers[i].outputs, expected.layers[i].outputs) << expected.layers[i].name;
    EXPECT_DOUBLE_EQ(imported.layers[i].flops, expected.layers[i].flops) << expected.layers[i].name;
    EXPECT_DOUBLE_EQ(imported.layers[i].bytes, expected.layers[i].bytes) << expected.layers[i].name;
  }
}

// Token ids -> embedding (Gather) -> sequence-first transpose -> LSTM, as a language model exports.
TEST_F(Onnx, EmbeddingAndLstmMatchTheOps) {
  onnx::ModelProto m = model_with_input("lm", {5});
  auto* g = m.mutable_graph();
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  weight(g, "emb", {10, 8});
  weight(g, "W", {1, 4 * 6, 8});
  weight(g, "R", {1, 4 * 6, 6});
  weight(g, "B", {1, 8 * 6});
  node(g, "Gather", {"emb", "x"}, {"e"}, "encoder");
  set_ints(node(g, "Transpose", {"e"}, {"t"}, "to_time_major"), "perm", {1, 0, 2});
  set_int(node(g, "LSTM", {"t", "W", "R", "B"}, {"y"}, "rnn"), "hidden_size", 6);
  g->add_output()->set_name("y");
  const auto path = write(m);

  WorkloadOptions o;
  o.batch = 2;
  Builder b("lm", o);
  const Tensor e = b.embedding("encoder", b.input({2, 5}), 10, 8);
  b.lstm("rnn", Tensor{{5, 2, 8}, e.needs_grad}, 6);
  const auto expected = b.finish();
  const auto imported = build_workload(path, o);
  EXPECT_TRUE(imported.complete()) << imported.unsupported.size();
  ASSERT_EQ(imported.layers.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(imported.layers[i].op, expected.layers[i].op);
    EXPECT_DOUBLE_EQ(imported.layers[i].flops, expected.layers[i].flops) << expected.layers[i].name;
    EXPECT_DOUBLE_EQ(imported.layers[i].bytes, expected.layers[i].bytes) << expected.layers[i].name;
  }
}

TEST_F(Onnx, ModelCommandReadsTheFileAndNamesWhatItCouldNotCount) {
  const auto path = write(classifier("Hardmax"));
  const fs::path out = fs::temp_directory_path() / ("edgeroof_onnx_" + std::to_string(::getpid()) + ".json");
  const std::string cmd = std::string(EDGEROOF_BINARY_DIR) + "/reports/edgeroof model " + path +
                          " --batch 2 --format json -o " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  EXPECT_EQ(doc.at("unsupported"), nlohmann::json::array({"Hardmax"}));
  EXPECT_EQ(doc.at("totals").at("complete"), false);
  WorkloadOptions o;
  o.batch = 2;
  EXPECT_DOUBLE_EQ(doc.at("totals").at("flops").get<double>(), classifier_from_ops(o).total_flops());
}

TEST_F(Onnx, FixedBatchAndBadFilesAreClearErrors) {
  auto m = classifier();
  m.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(1);
  const auto path = write(m);
  WorkloadOptions o;
  o.batch = 1;
  EXPECT_EQ(build_workload(path, o).batch, 1);
  o.batch = 8;
  try {
    (void)build_workload(path, o);
    FAIL() << "a fixed batch of 1 must not be counted as 8";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("fixed batch of 1"), std::string::npos) << e.what();
  }
  std::ofstream(m_path) << "not a protobuf";
  EXPECT_THROW((void)build_workload(m_path.string(), o), ModelError);
  EXPECT_THROW((void)build_workload("/nonexistent/x.onnx", o), ModelError);
}

}  // namespace
}  // namespace edgeroof::dnn
