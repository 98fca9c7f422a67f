// A real run of edgeroof-bench's CPU model families (oneDNN and the optimizer kernels) on the
// zoo's smallest model: the stable names, the workload's analytic totals as counters, coverage and
// the layer count computed here from dnn::build_workload, the layers left out named in the label
// and the context, and the command lines it refuses.
#include "edgeroof/config.hpp"
#include "program.hpp"

#include "edgeroof/dnn/workload.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace edgeroof::test;

namespace {

// The zoo's smallest model (edgeroof model --list): fewest layers and, but for GPT-2's decode step,
// fewest FLOPs.
const std::string small_model = "lstm";

ProgramRun bench(const std::vector<std::string>& args) {
  std::vector<std::string> all{"--sensor=none", "--idle-s=0", "--clock-period-s=0"};
  all.insert(all.end(), args.begin(), args.end());
  ProgramOptions options;
  options.timeout_s = 300.0;
  return run_program(bench_exe(), all, options);
}

edgeroof::dnn::Workload workload(const std::string& model, const std::string& train, const std::string& dtype) {
  edgeroof::dnn::WorkloadOptions options;
  options.batch = 1;
  options.dtype = dtype;
  options.train = train;
  options.fused_attention = false;  // as the model families run attention
  return edgeroof::dnn::build_workload(model, options);
}

// A workload layer's phase token as the uncovered listing writes it: "fwd", the backward layer's
// name suffix, or "update".
std::string token_of(const edgeroof::dnn::LayerCost& l) {
  if (l.phase == "optimizer") return "update";
  const auto slash = l.name.find('/');
  return slash == std::string::npos ? "fwd" : l.name.substr(slash + 1);
}

// The layers an "op/token xN (reason); ..." listing names: their FLOPs, and how many there are,
// each entry's count checked against the workload's own layers of that op and token.
struct Uncovered {
  double flops = 0.0;
  int layers = 0;
  std::vector<std::string> tokens;  // "uncovered:op/token:xN"
};
Uncovered uncovered_of(const std::string& listing, const edgeroof::dnn::Workload& w) {
  Uncovered out;
  std::stringstream entries(listing);
  std::string entry;
  while (std::getline(entries, entry, ';')) {
    if (!entry.empty() && entry[0] == ' ') entry.erase(0, 1);
    const auto space = entry.find(" x");
    const auto paren = entry.find(" (");
    if (space == std::string::npos || paren == std::string::npos) {
      ADD_FAILURE() << "not an uncovered entry: '" << entry << "'";
      continue;
    }
    const std::string what = entry.substr(0, space);
    const int count = std::stoi(entry.substr(space + 2, paren - space - 2));
    int found = 0;
    for (const auto& l : w.layers) {
      if (l.op + "/" + token_of(l) != what) continue;
      ++found;
      out.flops += l.flops;
    }
    EXPECT_EQ(found, count) << entry;
    out.layers += count;
    out.tokens.push_back("uncovered:" + what + ":x" + std::to_string(count));
  }
  return out;
}

// The counters every model benchmark carries, against the workload built here: flops and bytes its
// totals, and coverage and layers what the listing of the layers left out leaves. Returns the
// listing.
Uncovered check_counters(const json& b, const json& ctx, const std::string& model, const std::string& phase) {
  const std::string name = b.at("name");
  EXPECT_FALSE(b.value("error_occurred", false)) << name << ": " << b.value("error_message", "");
  const auto w = workload(model, phase == "train_sgd" ? "sgd" : phase == "train_adam" ? "adam" : "", "fp32");
  EXPECT_EQ(b.at("flops").get<double>(), w.total_flops()) << name;
  EXPECT_EQ(b.at("bytes").get<double>(), w.total_bytes()) << name;
  const std::string key = "models.cpu." + model + "." + phase + ".uncovered";
  const Uncovered left_out = ctx.contains(key) ? uncovered_of(ctx.at(key), w) : Uncovered{};
  EXPECT_EQ(b.at("layers").get<double>(), double(w.layers.size()) - left_out.layers) << name;
  EXPECT_NEAR(b.at("coverage").get<double>(), (w.total_flops() - left_out.flops) / w.total_flops(), 1e-12) << name;
  const std::string label = b.value("label", "");
  for (const auto& token : left_out.tokens) EXPECT_NE(label.find(token), std::string::npos) << name << ": " << label;
  return left_out;
}

json run_models(const ScratchDir& dir, const std::vector<std::string>& flags) {
  const auto out = dir.path() / "models.json";
  std::vector<std::string> args = flags;
  for (const char* more : {"--benchmark_filter=^model/", "--benchmark_min_time=0.001"}) args.emplace_back(more);
  args.push_back("--benchmark_out=" + out.string());
  const auto run = bench(args);
  EXPECT_TRUE(succeeded(run)) << run.err;
  if (!fs::exists(out)) return json::object();
  return json::parse(read_file(out));
}

}  // namespace

#if EDGEROOF_HAVE_ONEDNN

TEST(ModelBench, InferenceAndTrainingStepOfTheSmallestModel) {
  // The LSTM language model: the zoo's smallest. Its LSTM cells and embedding have no oneDNN
  // kernel here, so they are listed and count against coverage; its decoder and, in training, the
  // decoder's backward and every parameter's SGD update run.
  const ScratchDir dir("model_small");
  const json doc = run_models(dir, {"--models=" + small_model, "--model-batch=1", "--model-phase=inference,train_sgd"});
  ASSERT_TRUE(doc.contains("benchmarks"));
  const auto& ctx = doc.at("context");
  EXPECT_EQ(ctx.at("models.models"), small_model);
  EXPECT_EQ(ctx.at("models.phases"), "inference,train_sgd");
  EXPECT_EQ(ctx.at("models.batch"), "1");
  std::vector<std::string> names;
  for (const auto& b : doc.at("benchmarks")) names.push_back(b.at("name"));
  ASSERT_EQ(names, (std::vector<std::string>{"model/cpu/" + small_model + "/inference/bs:1",
                                             "model/cpu/" + small_model + "/train_sgd/bs:1"}));
  const auto& benchmarks = doc.at("benchmarks");
  const Uncovered inference = check_counters(benchmarks[0], ctx, small_model, "inference");
  EXPECT_EQ(ctx.at("models.cpu." + small_model + ".inference.uncovered"),
            "embedding/fwd x1 (no layer kernel for op 'embedding'); lstm/fwd x2 (no layer kernel for op 'lstm')");
  EXPECT_EQ(benchmarks[0].at("label"), "uncovered:embedding/fwd:x1 uncovered:lstm/fwd:x2");
  EXPECT_EQ(benchmarks[0].at("layers").get<double>(), 1.0);  // the decoder
  EXPECT_LT(benchmarks[0].at("coverage").get<double>(), 1.0);

  const Uncovered training = check_counters(benchmarks[1], ctx, small_model, "train_sgd");
  const auto w = workload(small_model, "sgd", "fp32");
  int updates = 0;
  for (const auto& l : w.layers) updates += l.phase == "optimizer";
  EXPECT_EQ(updates, 4);  // encoder, two LSTM layers, decoder
  // Every update runs: none is listed.
  for (const auto& token : training.tokens) EXPECT_EQ(token.find("/update"), std::string::npos) << token;
  // The decoder's forward, bwd_data and bwd_weights, and the four updates.
  EXPECT_EQ(benchmarks[1].at("layers").get<double>(), 7.0);
}

TEST(ModelBench, EveryLayerOfResnetInferenceRuns) {
  const ScratchDir dir("model_resnet");
  const json doc = run_models(dir, {"--models=resnet50"});
  ASSERT_TRUE(doc.contains("benchmarks"));
  ASSERT_EQ(doc.at("benchmarks").size(), 1u);
  const auto& b = doc.at("benchmarks")[0];
  EXPECT_EQ(b.at("name"), "model/cpu/resnet50/inference/bs:1");
  const auto& ctx = doc.at("context");
  EXPECT_EQ(ctx.at("models.phases"), "inference");  // the default
  (void)check_counters(b, ctx, "resnet50", "inference");
  EXPECT_FALSE(ctx.contains("models.cpu.resnet50.inference.uncovered"));
  EXPECT_EQ(b.at("coverage").get<double>(), 1.0);
  EXPECT_EQ(b.at("layers").get<double>(), double(workload("resnet50", "", "fp32").layers.size()));
  EXPECT_EQ(b.at("layers").get<double>(), 174.0);  // 53 conv, 53 batchnorm, 49 relu, 16 add, 2 pools, fc
  EXPECT_EQ(b.value("label", ""), "");
}

TEST(ModelBench, Fp16OnTheCpuIsNamedUncoveredAndNotRegistered) {
  // oneDNN's layer kernels and the optimizer kernels here run fp32: no layer of an fp16 model has a
  // CPU kernel, so there is no benchmark, and the context says which layers and why. A tiny memory
  // benchmark is run so that the results file (and its context) is written.
  const ScratchDir dir("model_fp16");
  const auto out = dir.path() / "fp16.json";
  const auto run = bench({"--models=" + small_model, "--model-dtype=fp16", "--model-phase=train_adam",
                          "--benchmark_filter=^model/|^memory/cpu/write/bytes:16384/", "--benchmark_min_time=0.001",
                          "--benchmark_out=" + out.string()});
  ASSERT_TRUE(succeeded(run)) << run.err;
  const json doc = json::parse(read_file(out));
  for (const auto& b : doc.at("benchmarks"))
    EXPECT_EQ(b.at("name").get<std::string>().rfind("model/", 0), std::string::npos);
  const auto& ctx = doc.at("context");
  const std::string key = "models.cpu." + small_model + ".train_adam";
  ASSERT_TRUE(ctx.contains(key + ".uncovered"));
  EXPECT_EQ(ctx.at(key + ".skipped"), "no layer of the model has a kernel on this backend");
  const std::string listing = ctx.at(key + ".uncovered");
  const auto w = workload(small_model, "adam", "fp16");
  const Uncovered left_out = uncovered_of(listing, w);
  EXPECT_EQ(left_out.layers, static_cast<int>(w.layers.size()));
  EXPECT_NE(listing.find("(the oneDNN layer kernels run fp32 only, not fp16)"), std::string::npos) << listing;
  EXPECT_NE(listing.find("adam/update x"), std::string::npos) << listing;
  EXPECT_NE(listing.find("(the optimizer kernels run fp32 only, not fp16)"), std::string::npos) << listing;
}

#endif

TEST(ModelBench, BadModelFlagsFailWithOneLineAndNoFile) {
  const ScratchDir dir("model_bad");
  const auto out = dir.path() / "bad.json";
  const std::string results = "--benchmark_out=" + out.string();
  EXPECT_TRUE(fails_with_line_containing(bench({"--models=no_such_model", results}), 2,
                                         "edgeroof-bench: --models: unknown model 'no_such_model' (zoo: resnet50,"));
  EXPECT_TRUE(fails_with(bench({"--models=" + small_model, "--model-phase=train_lamb", results}), 2,
                         "edgeroof-bench: --model-phase takes inference, train_sgd or train_adam, not 'train_lamb' "
                         "(see edgeroof-bench --help)"));
  EXPECT_TRUE(fails_with(bench({"--models=" + small_model, "--model-batch=0", results}), 2,
                         "edgeroof-bench: --model-batch must be at least 1 (see edgeroof-bench --help)"));
  EXPECT_TRUE(fails_with(bench({"--models=" + small_model, "--model-dtype=int4", results}), 2,
                         "edgeroof-bench: --model-dtype takes fp32 or fp16, not 'int4' (see edgeroof-bench --help)"));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}
