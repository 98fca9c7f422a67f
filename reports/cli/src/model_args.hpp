// The one workload-options parser: what model, predict, tune and plot share on the command line,
// the model and how it is counted (--model or --workload), the rooflines and the backend/level the
// layers are charged to, and result files to read.
#pragma once

#include "cli.hpp"
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/predict.hpp"

#include <string>
#include <vector>

namespace edgeroof::cli {

// How a model is counted, the same in model, predict, tune and plot: --batch, --dtype, --train,
// --seq, --unfused-attention, --l2-bytes (read by model_options_of()).
[[nodiscard]] std::vector<OptionSpec> model_options();
// What predict, tune and plot take: --model, --workload, model_options(), --backend, --level.
[[nodiscard]] std::vector<OptionSpec> workload_options();

// The largest --batch and --seq taken: an edge board runs nothing larger, and a larger count is a
// typo (the counts themselves are checked for overflow too, dnn/ops.hpp).
inline constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxSequence = std::int64_t{1} << 20;

// The model options given (model_options()). Throws UsageError for a value out of range.
[[nodiscard]] dnn::WorkloadOptions model_options_of(const Args& args);
inline const OptionSpec rooflines_option{"--rooflines", "FILE", "rooflines.json written by 'edgeroof fit'"};

// The workload of --model (zoo name or .onnx, with --batch/--dtype/--train) or --workload
// (a table from 'edgeroof model --format json'). Throws UsageError when neither or both are given.
[[nodiscard]] dnn::Workload workload_of(const Args& args);
[[nodiscard]] reports::PredictOptions predict_options_of(const Args& args, const reports::Rooflines& rooflines);
[[nodiscard]] reports::Rooflines rooflines_of(const Args& args);

inline const OptionSpec calibrate_option{
    "--calibrate", "FILE|DIR", "layer and model benchmarks of one mode: predict every mode calibrated (repeatable)",
    true};
// With --calibrate, `options` gets the calibration of `workload` from those files against
// `rooflines` (the rooflines the modes are costed from); without it, nothing changes.
void calibrate_of(const Args& args, const dnn::Workload& workload, const reports::Rooflines& rooflines,
                  reports::PredictOptions& options);

// Files named on the command line; a directory stands for the *.json files in it, sorted, but for
// the failed.json and rooflines.json that edgeroof sweep writes there.
[[nodiscard]] std::vector<reports::ResultsFile> load_results_paths(const std::vector<std::string>& paths);

}  // namespace edgeroof::cli
