// Zoo models against published multiply-add counts and the structure of their training steps.
#include "edgeroof/dnn/zoo.hpp"

#include <gtest/gtest.h>

#include <set>

namespace edgeroof::dnn {
namespace {

// Multiply-adds of the GEMM-like layers of the forward pass (conv2d, linear, matmul, bmm, lstm
// GEMMs and the attention's two products), per sample: what papers and torchvision call "FLOPs".
double forward_macs(const Workload& w, const std::set<std::string>& ops = {"conv2d", "linear"}) {
  double macs = 0.0;
  for (const auto& l : w.layers) {
    if (l.phase != "forward" || ops.count(l.op) == 0) continue;
    double m = l.flops;
    if ((l.op == "conv2d" || l.op == "linear") && l.attrs.count("bias") && l.attrs.at("bias")[0] == 1) {
      m -= element_count(l.outputs[0]);  // the bias adds are not multiply-adds
    }
    macs += m / 2;
  }
  return macs / static_cast<double>(w.batch);
}

TEST(Zoo, ResNet50MatchesTheFourPointOneGigaMacsOfThePaper) {
  const auto w = build_workload("resnet50", {16});
  // torchvision lists 4.09 GMACs (convs and fc, 224x224); exactly 4,089,184,256 by our count:
  // convs 4,087,136,256 + fc 2048*1000.
  EXPECT_NEAR(forward_macs(w), 4.089184256e9, 1.0);
  EXPECT_EQ(w.batch, 16);
  EXPECT_TRUE(w.complete());
  // 53 convolutions (49 + 4 downsample), 53 batchnorms, one fc.
  int convs = 0, bns = 0;
  for (const auto& l : w.layers) convs += l.op == "conv2d", bns += l.op == "batchnorm";
  EXPECT_EQ(convs, 53);
  EXPECT_EQ(bns, 53);
}

}  // namespace
}  // namespace edgeroof::dnn
