// The workload table of a model (README.md, Contracts; `edgeroof model --format json`): per layer its
// analytic FLOPs and DRAM bytes for one inference or one training step. reports/ predicts time
// and energy from it; dnn/ builds it from the zoo or an ONNX file.
#pragma once

#include "edgeroof/dnn/layer_params.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::dnn {

// An unknown model, op, dtype or option, or an unreadable model file: what() is one line.
class ModelError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<std::int64_t>;

struct LayerCost {
  std::string name;   // "layer3.0.conv2", "layer3.0.conv2/bwd_filter" for training phases
  std::string op;     // "conv2d", "linear", "attention", "relu", ...
  std::string phase;  // "forward", "backward_data", "backward_weights", "optimizer"
  std::vector<Shape> inputs;
  std::vector<Shape> outputs;
  double flops = 0.0;      // 1 multiply-add = 2 FLOP
  double bytes = 0.0;      // DRAM traffic: inputs, weights and outputs, no reuse between layers
  std::string dtype;       // "fp32", "fp16", "bf16", "int8"
  bool tensor_op = false;  // GEMM-like (conv, matmul, attention): may run on tensor cores
  // What the shapes do not say, for building the layer's kernel (layer_params.hpp). Every phase
  // of a layer carries the forward shapes and parameters (dnn/ops.hpp).
  LayerParams params;
  // Whether the layer is part of a training step (the table's "phase" says it for all layers).
  Step step = Step::inference;
};

struct Workload {
  std::string model;
  std::int64_t batch = 1;
  std::string dtype = "fp32";
  std::string phase = "inference";  // or "training:sgd", "training:adam", ...
  std::vector<LayerCost> layers;
  std::vector<std::string> unsupported;  // ops that could not be counted; totals then incomplete

  [[nodiscard]] double total_flops() const;
  [[nodiscard]] double total_bytes() const;
  [[nodiscard]] bool complete() const { return unsupported.empty(); }
};

struct WorkloadOptions {
  std::int64_t batch = 1;
  std::string dtype = "fp32";
  std::string train = {};  // "" for inference, else the optimizer: "sgd", "sgd_momentum", "adam"
  // Attention as one fused kernel (score matrix stays on chip) or as bmm + softmax + bmm.
  bool fused_attention = true;
  // L2 reuse (0: off, every tensor from DRAM): an activation read by the layer right after the one
  // that wrote it, and no larger than this many bytes, is read from L2 (forward phases only).
  double l2_bytes = 0.0;
  // Sequence length of a zoo transformer or LSTM (0: the model's default): tokens of BERT, the
  // prompt of a prefill, the KV cache of a decode, the steps of the LSTM.
  std::int64_t seq_len = 0;
};

// Builds the workload of a zoo model (resnet50, bert_base, ...) or of an .onnx file.
// Throws ModelError for an unknown model or bad options.
[[nodiscard]] Workload build_workload(const std::string& model_or_path, const WorkloadOptions& options);

// The zoo's model names, for `edgeroof model --list`.
[[nodiscard]] std::vector<std::string> zoo_models();

[[nodiscard]] nlohmann::json to_json(const Workload& w);
// A layer's parameters as the table's "attrs": conv2d has "kernel" [r, s], "stride" [sh, sw],
// "padding" [ph, pw], "dilation" [dh, dw], "groups" [g], "bias" [0|1]; pooling has "kernel",
// "stride", "padding"; attention has "heads" [h], "causal" [0|1] and "kv_heads" [hk]; linear has
// "bias" [0|1]; concat "axis" [a]; upsample "scale" [s, s]; lstm "hidden" [H]; others nothing.
[[nodiscard]] std::map<std::string, std::vector<std::int64_t>> attrs_of(const LayerParams& params);
// The parameters of an `op` layer from a table's attrs (absent ones take the structs' defaults,
// unknown ones are ignored); `output` gives conv2d its out_channels.
[[nodiscard]] LayerParams params_from_attrs(const std::string& op,
                                            const std::map<std::string, std::vector<std::int64_t>>& attrs,
                                            const std::vector<Shape>& outputs);
// Throws ModelError naming `origin` when the document is not a workload table.
[[nodiscard]] Workload workload_from_json(const nlohmann::json& doc, const std::string& origin);

}  // namespace edgeroof::dnn
