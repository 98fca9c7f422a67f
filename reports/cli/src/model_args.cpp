#include "model_args.hpp"

#include <algorithm>
#include <filesystem>

namespace edgeroof::cli {

namespace fs = std::filesystem;

std::vector<OptionSpec> model_options() {
  return {{"--batch", "N", "batch size, 1 to 1048576 (default 1)"},
          {"--dtype", "fp32|fp16|bf16|int8", "data type of the layers (default fp32)"},
          {"--train", "sgd|sgd_momentum|adam", "a training step with this optimizer instead of inference"},
          {"--seq", "N",
           "sequence length of a transformer or the LSTM (prompt, KV cache or steps; see 'edgeroof model --list')"},
          {"--unfused-attention", "", "attention as bmm + softmax + bmm (score matrix in DRAM)"},
          {"--l2-bytes", "N",
           "model L2 reuse: a tensor of at most N bytes written by the layer just before is read from L2"}};
}

std::vector<OptionSpec> workload_options() {
  std::vector<OptionSpec> out{
      {"--model", "NAME|FILE.onnx", "a zoo model (see 'edgeroof model --list') or an ONNX file"},
      {"--workload", "FILE.json", "a workload table ('edgeroof model --format json') instead of --model"}};
  for (auto& o : model_options()) out.push_back(std::move(o));
  out.push_back({"--backend", "cuda|cpu",
                 "whose ceilings and energy constants the layers run on (default cuda where measured, else cpu)"});
  out.push_back({"--level", "LEVEL", "memory level the layers' bytes come from (default dram)"});
  return out;
}

dnn::Workload workload_of(const Args& args) {
  const auto model = args.get("--model");
  const auto table = args.get("--workload");
  if (model && table) throw UsageError("give --model or --workload, not both");
  if (table) {
    if (args.has("--batch") || args.has("--dtype") || args.has("--train")) {
      throw UsageError("--batch, --dtype and --train describe --model; a --workload table has them already");
    }
    for (const char* name : {"--seq", "--unfused-attention", "--l2-bytes"}) {
      if (args.has(name))
        throw UsageError(std::string(name) + " describes --model; a --workload table is counted already");
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
  o.backend = args.get_or("--backend", reports::default_backend(rooflines));
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

void calibrate_of(const Args& args, const dnn::Workload& workload, const reports::Rooflines& rooflines,
                  reports::PredictOptions& options) {
  if (!args.has("--calibrate")) return;
  options.calibration = std::make_shared<const reports::Calibration>(
      reports::calibrate(workload, rooflines, options, load_results_paths(args.all("--calibrate"))));
}

std::vector<reports::ResultsFile> load_results_paths(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::directory_iterator(p)) {
        // What edgeroof sweep writes beside the results (failures, the adaptive sweep's rooflines).
        const auto name = e.path().filename();
        if (name == "failed.json" || name == "rooflines.json") continue;
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
