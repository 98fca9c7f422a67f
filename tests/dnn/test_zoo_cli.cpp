// `edgeroof model` end to end: the JSON it writes is the workload table of the library, bad input
// is one line on standard error with the documented exit status.
#include "edgeroof/dnn/zoo.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace edgeroof::dnn {
namespace {

namespace fs = std::filesystem;

struct Run {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs `edgeroof model ARGS` (arguments are plain words, no quoting needed).
Run model(const std::string& args) {
  const fs::path err = fs::temp_directory_path() / ("edgeroof_model_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string(EDGEROOF_BINARY_DIR) + "/reports/edgeroof model " + args + " 2>" + err.string();
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err);
  fs::remove(err);
  return r;
}

TEST(ModelCli, JsonIsTheLibrarysWorkloadTable) {
  const fs::path out = fs::temp_directory_path() / ("edgeroof_model_" + std::to_string(::getpid()) + ".json");
  const auto r = model("bert_base --batch 2 --dtype fp16 --train adam --format json -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto doc = nlohmann::json::parse(slurp(out));
  fs::remove(out);
  WorkloadOptions o;
  o.batch = 2;
  o.dtype = "fp16";
  o.train = "adam";
  const auto expected = build_workload("bert_base", o);
  EXPECT_EQ(doc.at("phase"), "training:adam");
  EXPECT_EQ(doc.at("layers").size(), expected.layers.size());
  EXPECT_DOUBLE_EQ(doc.at("totals").at("flops").get<double>(), expected.total_flops());
  EXPECT_DOUBLE_EQ(doc.at("totals").at("bytes").get<double>(), expected.total_bytes());
  EXPECT_TRUE(doc.at("unsupported").empty());
}

TEST(ModelCli, CsvHasOneRowPerLayerAndATotal) {
  const auto r = model("lstm --batch 4 --format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  // Header, embedding, two LSTM layers, decoder, total.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 6);
  EXPECT_EQ(r.out.rfind("name,op,phase,inputs,outputs,flops,bytes,FLOP/B\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nrnn.0,lstm,forward,\"35x4x650,2600x650,2600x650,2600,2600\",35x4x650,"), std::string::npos)
      << r.out;
}

TEST(ModelCli, ListNamesEveryZooModel) {
  const auto r = model("--list --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc.at("models").size(), zoo_models().size());
  EXPECT_EQ(doc.at("onnx").get<bool>(), onnx_available());
}

TEST(ModelCli, BadInputIsOneLineAndNonZero) {
  const auto unknown = model("resnet51");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("unknown model 'resnet51'"), std::string::npos) << unknown.err;
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);
  EXPECT_TRUE(unknown.out.empty());
  const auto dtype = model("resnet50 --dtype fp64");
  EXPECT_EQ(dtype.status, 1);
  EXPECT_NE(dtype.err.find("unknown dtype 'fp64'"), std::string::npos) << dtype.err;
  EXPECT_EQ(model("resnet50 --train int8sgd").status, 1);
  EXPECT_EQ(model("resnet50 --batch many").status, 2);
  EXPECT_EQ(model("").status, 2);
  const auto missing = model("/nonexistent/model.onnx");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
}

}  // namespace
}  // namespace edgeroof::dnn
