// The model zoo: real models at their published shapes, built op by op. Layer names follow the
// reference implementations (torchvision, Hugging Face, Ultralytics) so a layer can be found there.
#include "edgeroof/dnn/ops.hpp"
#include "edgeroof/dnn/zoo.hpp"

#include <algorithm>
#include <string>

namespace edgeroof::dnn {
namespace {

// ---- ResNet-50 (torchvision v1.5: stride on the 3x3 conv), 224x224, 1000 classes -------------

Tensor conv_bn(Builder& b, const std::string& conv, const std::string& bn, const Tensor& x, std::int64_t out,
               std::int64_t k, std::int64_t s, std::int64_t groups = 1) {
  Conv2dParams p;
  p.out_channels = out;
  p.kernel = {k, k};
  p.stride = {s, s};
  p.padding = {k / 2, k / 2};
  p.groups = groups;
  return b.batchnorm(bn, b.conv2d(conv, x, p));
}

Tensor bottleneck(Builder& b, const std::string& n, const Tensor& x, std::int64_t width, std::int64_t stride) {
  const std::int64_t out = width * 4;
  Tensor y = b.activation(n + ".relu1", "relu", conv_bn(b, n + ".conv1", n + ".bn1", x, width, 1, 1));
  y = b.activation(n + ".relu2", "relu", conv_bn(b, n + ".conv2", n + ".bn2", y, width, 3, stride));
  y = conv_bn(b, n + ".conv3", n + ".bn3", y, out, 1, 1);
  Tensor skip = x;
  if (stride != 1 || x.shape[1] != out) {
    skip = conv_bn(b, n + ".downsample.0", n + ".downsample.1", x, out, 1, stride);
  }
  return b.activation(n + ".relu3", "relu", b.add(n + ".add", y, skip));
}

void resnet50(Builder& b) {
  Tensor x = b.input({b.options().batch, 3, 224, 224});
  x = b.activation("relu", "relu", conv_bn(b, "conv1", "bn1", x, 64, 7, 2));
  x = b.maxpool("maxpool", x, {{3, 3}, {2, 2}, {1, 1}});
  const std::int64_t blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t width = 64 << stage;
    for (std::int64_t i = 0; i < blocks[stage]; ++i) {
      const std::string n = "layer" + std::to_string(stage + 1) + "." + std::to_string(i);
      x = bottleneck(b, n, x, width, i == 0 && stage > 0 ? 2 : 1);
    }
  }
  x = b.global_avgpool("avgpool", x);
  b.linear("fc", b.view(x, {x.shape[0], x.shape[1]}), 1000, true);
}

}  // namespace

const std::vector<ZooModel>& zoo() {
  static const std::vector<ZooModel> models{
      {"resnet50", "ResNet-50 (torchvision), 3x224x224 images, 1000 classes", resnet50},
  };
  return models;
}

std::vector<std::string> zoo_models() {
  std::vector<std::string> names;
  for (const auto& m : zoo()) names.push_back(m.name);
  return names;
}

Workload build_zoo_model(const std::string& name, const WorkloadOptions& options) {
  const auto& models = zoo();
  const auto it = std::find_if(models.begin(), models.end(), [&](const ZooModel& m) { return m.name == name; });
  if (it == models.end()) {
    std::string known;
    for (const auto& m : models) known += (known.empty() ? "" : ", ") + m.name;
    throw ModelError("unknown model '" + name + "' (zoo: " + known + "; or a .onnx file)");
  }
  Builder b(name, options);
  it->build(b);
  return b.finish();
}

Workload build_workload(const std::string& model_or_path, const WorkloadOptions& options) {
  const std::string ext = ".onnx";
  if (model_or_path.size() > ext.size() &&
      model_or_path.compare(model_or_path.size() - ext.size(), ext.size(), ext) == 0) {
    return import_onnx(model_or_path, options);
  }
  return build_zoo_model(model_or_path, options);
}

}  // namespace edgeroof::dnn
