// The model families in-process: how a workload is split into what runs and what is listed, the
// order parts run in, the check that names the first wrong layer, and the cache that prepares a
// model once, keeps one alive and refuses one that does not fit.
#include "model_families.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace edgeroof;
using namespace edgeroof::bench;

namespace {

dnn::Workload resnet_inference() {
  dnn::WorkloadOptions options;
  options.fused_attention = false;
  return dnn::build_workload("resnet50", options);
}

// A layer kernel that records when it runs and reports a fixed error.
class FakeLayer final : public dnn::LayerKernel {
public:
  FakeLayer(const dnn::LayerCost& l, std::vector<std::string>* log, double error, int* alive)
      : LayerKernel(l, dnn::Pass::forward), m_log(log), m_error(error), m_alive(alive) {
    ++*m_alive;
  }
  ~FakeLayer() override { --*m_alive; }
  [[nodiscard]] double tolerance() const override { return 1e-4; }

private:
  void do_prepare() override { m_log->push_back("prepare " + layer().name); }
  void do_run() override { m_log->push_back("run " + layer().name); }
  double do_max_relative_error() override { return m_error; }
  std::vector<std::string>* m_log;
  double m_error;
  int* m_alive;
};

// Every forward layer "runs" except the ReLUs, whose reason is "test".
ModelPlan plan_without_relu(const dnn::Workload& w) {
  return plan_model(w, "inference", [](const dnn::Workload& wl, const dnn::LayerInstance& i, std::string* why) {
    if (wl.layers[i.index].op != "relu") return true;
    *why = "test";
    return false;
  });
}

}  // namespace

TEST(ModelPlan, LayersWithoutAKernelAreListedAndCountAgainstCoverage) {
  const auto w = resnet_inference();
  const ModelPlan plan = plan_without_relu(w);
  double relu_flops = 0.0;
  for (const auto& l : w.layers) relu_flops += l.op == "relu" ? l.flops : 0.0;
  ASSERT_GT(relu_flops, 0.0);
  EXPECT_EQ(plan.uncovered, std::vector<std::string>{"relu/fwd x49 (test)"});
  EXPECT_EQ(plan.uncovered_tokens, std::vector<std::string>{"uncovered:relu/fwd:x49"});
  EXPECT_EQ(plan.covered.size(), w.layers.size() - 49);
  EXPECT_DOUBLE_EQ(plan.coverage, (w.total_flops() - relu_flops) / w.total_flops());
  EXPECT_EQ(model_benchmark_name("cpu", plan), "model/cpu/resnet50/inference/bs:1");
  // In the workload's order.
  for (std::size_t k = 1; k < plan.covered.size(); ++k) EXPECT_LT(plan.covered[k - 1].index, plan.covered[k].index);
}

TEST(ModelPlan, PhasesOfTrainingWorkloads) {
  dnn::WorkloadOptions options;
  options.train = "adam";
  EXPECT_EQ(model_phase_of(dnn::build_workload("lstm", options)), "train_adam");
  options.train = "sgd";
  EXPECT_EQ(model_phase_of(dnn::build_workload("lstm", options)), "train_sgd");
  EXPECT_EQ(model_phase_of(resnet_inference()), "inference");
}

TEST(PreparedModel, PartsRunInOrderAndTheFirstWrongOneIsNamed) {
  const auto w = resnet_inference();
  std::vector<std::string> log;
  int alive = 0;
  std::vector<ModelPart> parts(3);
  const double errors[] = {0.0, 0.5, std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t k = 0; k < 3; ++k) {
    parts[k].what = w.layers[k].name + " (" + w.layers[k].op + ")";
    parts[k].layer = std::make_unique<FakeLayer>(w.layers[k], &log, errors[k], &alive);
  }
  PreparedModel model(std::move(parts));
  model.run();
  EXPECT_EQ(log, (std::vector<std::string>{"run conv1", "run bn1", "run relu"}));
  EXPECT_EQ(model.first_failure(), "result check failed at layer bn1 (batchnorm): relative error 0.5 exceeds 0.0001");
}

TEST(PreparedModel, ANaNErrorFailsTheCheck) {
  const auto w = resnet_inference();
  std::vector<std::string> log;
  int alive = 0;
  std::vector<ModelPart> parts(1);
  parts[0].what = "conv1 (conv2d)";
  parts[0].layer = std::make_unique<FakeLayer>(w.layers[0], &log, std::nan(""), &alive);
  PreparedModel model(std::move(parts));
  EXPECT_EQ(model.first_failure(), "result check failed at layer conv1 (conv2d): relative error nan exceeds 0.0001");
}

TEST(CachedModel, PreparedOnceKeptByNameFreedForAnother) {
  const auto w = resnet_inference();
  const ModelPlan plan = plan_without_relu(w);
  std::vector<std::string> log;
  int alive = 0, made = 0;
  const MakePart make = [&](const dnn::Workload& wl, const dnn::LayerInstance& i) {
    ++made;
    ModelPart part;
    part.layer = std::make_unique<FakeLayer>(wl.layers[i.index], &log, 0.0, &alive);
    return part;
  };
  PreparedModel& first = cached_model("a", plan, make, std::nullopt);
  EXPECT_EQ(first.size(), plan.covered.size());
  EXPECT_EQ(alive, static_cast<int>(plan.covered.size()));
  EXPECT_EQ(log.front(), "prepare conv1");
  EXPECT_EQ(&cached_model("a", plan, make, std::nullopt), &first);  // Google Benchmark's next call
  EXPECT_EQ(made, static_cast<int>(plan.covered.size()));
  (void)cached_model("b", plan, make, std::nullopt);
  EXPECT_EQ(alive, static_cast<int>(plan.covered.size()));  // a's parts went before b's were made
  release_cached_model();
  EXPECT_EQ(alive, 0);
}

TEST(CachedModel, AModelThatDoesNotFitIsRefusedBeforeAllocating) {
  const auto w = resnet_inference();
  const ModelPlan plan = plan_without_relu(w);
  int made = 0;
  const MakePart make = [&](const dnn::Workload&, const dnn::LayerInstance&) {
    ++made;
    return ModelPart{};
  };
  try {
    (void)cached_model("model/cpu/resnet50/inference/bs:1", plan, make, 1024.0 * 1024.0);
    FAIL() << "no error";
  } catch (const dnn::LayerKernelError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("model/cpu/resnet50/inference/bs:1 does not fit: its layers' tensors need "
                                          "about 0.",
                                          0),
              0u)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(" GiB, 0.00 GiB available"), std::string::npos) << e.what();
  }
  EXPECT_EQ(made, 0);
  try {
    (void)cached_model("m", plan, make, 1024.0 * 1024.0, 2.0);
    FAIL() << "no error";
  } catch (const dnn::LayerKernelError& e) {
    EXPECT_NE(std::string(e.what()).find(" GiB (2 copies), 0.00 GiB available"), std::string::npos) << e.what();
  }
}

TEST(CachedModel, AFailedPreparationNamesTheLayer) {
  const auto w = resnet_inference();
  const ModelPlan plan = plan_without_relu(w);
  const MakePart make = [](const dnn::Workload& wl, const dnn::LayerInstance& i) -> ModelPart {
    if (wl.layers[i.index].name == "layer1.0.conv2") throw std::bad_alloc();
    return ModelPart{};
  };
  std::size_t before = 0;  // the parts prepared before it
  while (w.layers[plan.covered[before].index].name != "layer1.0.conv2") ++before;
  try {
    (void)cached_model("m", plan, make, std::nullopt);
    FAIL() << "no error";
  } catch (const dnn::LayerKernelError& e) {
    EXPECT_EQ(std::string(e.what()), "m does not fit: out of memory preparing layer layer1.0.conv2 (conv2d) (" +
                                         std::to_string(before) + " of " + std::to_string(plan.covered.size()) +
                                         " layers prepared)");
  }
  EXPECT_EQ(before, 5u);  // conv1, bn1, maxpool, layer1.0.conv1, layer1.0.bn1
}
