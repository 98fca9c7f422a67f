#include "model_args.hpp"

#include <algorithm>
#include <filesystem>

namespace edgeroof::cli {

namespace fs = std::filesystem;

std::vector<OptionSpec> workload_options() {
  return {{"--model", "NAME|FILE.onnx", "a zoo model (see 'edgeroof model --list') or an ONNX file"},
          {"--workload", "FILE.json", "a workload table ('edgeroof model --format json') instead of --model"},
          {"--batch", "N", "batch size, 1 to 1048576 (default 1)"},
          {"--dtype", "fp32|fp16|bf16|int8", "data type of the layers (default fp32)"},
          {"--train", "sgd|adam", "a training step with this optimizer instead of inference"},
          {"--backend", "cuda|cpu",
           "whose ceilings and energy constants the layers run on (default cuda where measured, else cpu)"},
          {"--level", "LEVEL", "memory level the layers' bytes come from (default dram)"}};
}

dnn::Workload workload_of(const Args& args) {
  const auto model = args.get("--model");
  const auto table = args.get("--workload");
  if (model && table) throw UsageError("give --model or --workload, not both");
  if (table) {
    if (args.has("--batch") || args.has("--dtype") || args.has("--train")) {
      throw UsageError("--batch, --dtype and --train describe --model; a --workload table has them already");
    }
    const std::string text = reports::read_text_file(*table);
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse errors and numbers out of range (1e999)
      throw reports::InputError(*table + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    return dnn::workload_from_json(doc, *table);
  }
  if (!model) throw UsageError("name the workload with --model NAME or --workload FILE.json");
  return dnn::build_workload(*model, model_options_of(args));
}

dnn::WorkloadOptions model_options_of(const Args& args) {
  dnn::WorkloadOptions options;
  options.batch = args.integer("--batch", 1, kMaxBatch).value_or(1);
  options.dtype = args.get_or("--dtype", options.dtype);
  options.train = args.get_or("--train", "");
  if (args.has("--train") && options.train.empty()) throw UsageError("--train needs sgd, sgd_momentum or adam");
  options.fused_attention = !args.has("--unfused-attention");
  options.seq_len = args.integer("--seq", 1, kMaxSequence).value_or(0);
  options.l2_bytes = args.number("--l2-bytes").value_or(0.0);
  if (options.l2_bytes < 0) throw UsageError("--l2-bytes must be 0 or more");
  return options;
}

reports::PredictOptions predict_options_of(const Args& args, const reports::Rooflines& rooflines) {
  reports::PredictOptions o;
  // Default: the GPU where the rooflines measured one, else the CPU (a CPU-only machine).
  bool has_cuda = false;
  for (const auto& m : rooflines.modes) {
    for (const auto& [key, ceiling] : m.compute_flops_per_s) has_cuda = has_cuda || key.rfind("cuda/", 0) == 0;
  }
  o.backend = args.get_or("--backend", has_cuda ? "cuda" : "cpu");
  o.level = args.get_or("--level", o.level);
  return o;
}

reports::Rooflines rooflines_of(const Args& args) {
  const auto path = args.get("--rooflines");
  if (!path) throw UsageError("name the rooflines with --rooflines FILE (written by 'edgeroof fit')");
  auto r = reports::load_rooflines(*path);
  if (r.modes.empty()) throw reports::InputError(*path + ": no power modes in it");
  return r;
}

std::vector<reports::ResultsFile> load_results_paths(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::directory_iterator(p)) {
        if (e.path().extension() == ".json") in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.emplace_back(p);
    }
  }
  return reports::load_results(files);
}

}  // namespace edgeroof::cli
