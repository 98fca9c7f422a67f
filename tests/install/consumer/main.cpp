// Uses each installed library once: the version and switches of edgeroof/config.hpp, a results
// name parsed and formatted again, the FLOPs and bytes of a zoo model, a figure in SI units and a
// Spearman rank correlation
// and a sweep shard. check_install.cmake compares the lines with the installed programs'.
#include "edgeroof/config.hpp"
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/power/shard.hpp"
#include "edgeroof/reports/si.hpp"
#include "edgeroof/reports/stats.hpp"
#include "edgeroof/results/names.hpp"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "resnet50";
  std::printf("version %s\n", EDGEROOF_VERSION);
  std::printf("switches cuda=%d cudnn=%d onednn=%d onnx=%d\n", EDGEROOF_HAVE_CUDA, EDGEROOF_HAVE_CUDNN,
              EDGEROOF_HAVE_ONEDNN, EDGEROOF_HAVE_ONNX);

  const auto parsed = edgeroof::results::parse_name("model/cpu/" + model + "/inference/bs:1");
  if (!parsed) {
    std::fprintf(stderr, "consumer: the results contract refused a model name\n");
    return 1;
  }
  std::printf("name %s\n", edgeroof::results::format_name(*parsed).c_str());

  edgeroof::dnn::WorkloadOptions options;
  const auto workload = edgeroof::dnn::build_workload(model, options);
  std::printf("flops %.17g\n", workload.total_flops());
  std::printf("bytes %.17g\n", workload.total_bytes());
  std::printf("layers %zu\n", workload.layers.size());
  std::printf("si %s\n", edgeroof::reports::si(workload.total_flops(), "FLOP").c_str());

  const auto shard = edgeroof::power::parse_shard("1/4");
  std::printf("shard %s\n", shard ? shard->text().c_str() : "refused");

  const auto rho = edgeroof::reports::spearman_rho({1, 2, 3, 4}, {10, 20, 40, 30});
  std::printf("rho %.3f\n", rho ? *rho : -9.0);
  return 0;
}
