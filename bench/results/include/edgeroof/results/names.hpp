// Benchmark names and label tokens of the results contract (README.md, "Contracts"): built here by
// edgeroof-bench and parsed here by every report, so the two sides cannot disagree on a format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace edgeroof::results {

// ---- benchmark names -------------------------------------------------------------------------
// Names are stable across runs, machines and power modes: comparisons pair by name. Numbers are
// written in one canonical form (format_number), and parse_name accepts only that form, so
// format_name(*parse_name(n)) == n for every name it accepts.

// compute/<backend>/<dtype>/ai:<FLOP per byte>, e.g. "compute/cuda/fp32/ai:0.125".
struct ComputeName {
  std::string backend;
  std::string dtype;
  double ai = 0.0;  // positive, finite
};

// compute/<backend>/<type>/gemm:<n>, e.g. "compute/cuda/fp16-tensor/gemm:8192".
struct GemmName {
  std::string backend;
  std::string type;
  std::int64_t n = 0;  // positive
};

// memory/<backend>/<kernel>/bytes:<working set>, e.g. "memory/cpu/triad/bytes:268435456".
struct MemoryName {
  std::string backend;
  std::string kernel;
  std::uint64_t bytes = 0;  // positive
};

// layer/<backend>/<model>/<layer>/<token>/bs:<batch>, e.g.
// "layer/cuda/resnet50/layer3.0.conv2/bwd_filter/bs:16". The layer's name may hold '/'; the
// token is the pass (layer_token()).
struct LayerName {
  std::string backend;
  std::string model;
  std::string layer;
  std::string token;
  std::int64_t batch = 0;  // positive
};

// model/<backend>/<model>/<phase>/bs:<batch>, e.g. "model/cpu/resnet50/inference/bs:1": one
// iteration is one inference, or one training step with its optimizer update (phase train_sgd or
// train_adam), of the whole model, its layers back to back.
struct ModelName {
  std::string backend;
  std::string model;
  std::string phase;       // one of model_phases
  std::int64_t batch = 0;  // positive
};
// The phases a model benchmark runs: "inference", "train_sgd", "train_adam".
inline constexpr const char* model_phases[] = {"inference", "train_sgd", "train_adam"};
// Whether `phase` is one of model_phases.
[[nodiscard]] bool is_model_phase(std::string_view phase);

using BenchmarkName = std::variant<ComputeName, GemmName, MemoryName, LayerName, ModelName>;

[[nodiscard]] std::string format_name(const ComputeName& name);
[[nodiscard]] std::string format_name(const GemmName& name);
[[nodiscard]] std::string format_name(const MemoryName& name);
[[nodiscard]] std::string format_name(const LayerName& name);
[[nodiscard]] std::string format_name(const ModelName& name);
[[nodiscard]] std::string format_name(const BenchmarkName& name);

// The name of one of the five kinds above, or nullopt: another family, an empty part, a number
// that is not positive or not in its canonical form ("ai:0.50", "bytes:016", "bs:1e3"), or a
// suffix Google Benchmark adds ("/real_time", "_median": strip them first).
[[nodiscard]] std::optional<BenchmarkName> parse_name(std::string_view name);

// "compute" (both compute kinds), "memory", "layer" or "model"; and the backend every kind names.
[[nodiscard]] std::string_view family_of(const BenchmarkName& name);
[[nodiscard]] const std::string& backend_of(const BenchmarkName& name);

// "0.125", "1", "256": the shortest text of a number (printf %.10g), as names and context values
// write numbers.
[[nodiscard]] std::string format_number(double x);

// The generic shape every benchmark name has, for readers that group any name by family and
// backend without knowing its kind: parts split at '/', at least four of them, the last one's
// "key:value" split at its first ':'. "memory/cuda/triad/bytes:1024" -> family "memory", backend
// "cuda", what "triad", param "bytes" = "1024".
struct NameParts {
  std::string family;
  std::string backend;
  std::string what;
  std::string param_key;
  std::string param_value;
  std::vector<std::string> parts;
};
[[nodiscard]] std::optional<NameParts> split_name(std::string_view name);

// ---- layer tokens ----------------------------------------------------------------------------
// A workload layer is named after its forward layer, a backward one with its pass as the last
// part ("conv1/bwd_data"); its benchmark's token is that suffix, or "fwd" for a forward layer.
// Returns {forward layer name, token}.
[[nodiscard]] std::pair<std::string, std::string> split_layer_token(const std::string& layer_name);

// ---- rooflines.json ceiling keys ---------------------------------------------------------------
// "<backend>/<what>": "cuda/fp32" (a compute ceiling), "cpu/dram" (a bandwidth per level).
[[nodiscard]] std::string ceiling_key(std::string_view backend, std::string_view what);
// {"cuda", "fp32"} of "cuda/fp32"; a key without '/' is all backend.
[[nodiscard]] std::pair<std::string, std::string> split_ceiling_key(std::string_view key);

// ---- labels ----------------------------------------------------------------------------------
// A label is words separated by spaces or commas ("level:l1 throttled"). Memory benchmarks carry
// level:<l1|l2|...|dram|mixed>; edgeroof-bench adds "throttled" to every benchmark whose clocks
// fell; a layer benchmark's label is the library's algorithm name.
namespace labels {
inline constexpr const char* level_prefix = "level:";
inline constexpr const char* throttled = "throttled";
}  // namespace labels

// The words of a label, in order.
[[nodiscard]] std::vector<std::string_view> label_tokens(std::string_view label);
// Whether `token` is one of the label's words.
[[nodiscard]] bool has_label_token(std::string_view label, std::string_view token);
// The label with one more word; one already there is not added twice.
[[nodiscard]] std::string add_label_token(const std::string& label, const std::string& token);
// "level:" + level, and the level of a label's first level:X word ("" when it has none).
[[nodiscard]] std::string level_token(std::string_view level);
[[nodiscard]] std::string level_of_label(std::string_view label);

}  // namespace edgeroof::results
