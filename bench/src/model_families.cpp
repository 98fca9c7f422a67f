#include "model_families.hpp"

#include "harness.hpp"
#include "layer_families.hpp"

#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <utility>

namespace edgeroof::bench {
namespace {

std::string gib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return text;
}

// MemAvailable of /proc/meminfo: what the kernel can give without swapping. Unknown (nullopt)
// where the file or the field is missing or not a number.
std::optional<double> host_available_bytes() {
  std::ifstream in("/proc/meminfo");
  // Line by line: some fields have no unit ("HugePages_Total:       0").
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key, unit;
    double kib = -1.0;
    if (!(fields >> key >> kib) || key != "MemAvailable:") continue;
    fields >> unit;
    if (!std::isfinite(kib) || kib < 0.0 || unit != "kB") return std::nullopt;
    return kib * 1024.0;
  }
  return std::nullopt;
}

bool cpu_instance_supported(const dnn::Workload& w, const dnn::LayerInstance& i, std::string* why) {
  if (!i.pass) return dnn::optimizer_supported(w.layers[i.index], why);
  return dnn::cpu_layer_supported(w.layers[i.forward], *i.pass, why);
}

ModelPart make_cpu_part(const dnn::Workload& w, const dnn::LayerInstance& i) {
  ModelPart part;
  if (!i.pass) {
    part.update = dnn::make_cpu_optimizer_kernel(w.layers[i.index]);
  } else {
    part.layer = dnn::make_cpu_layer_kernel(w.layers[i.forward], *i.pass);
  }
  return part;
}

void cpu_model_benchmark(benchmark::State& state, const ModelPlan& plan, const std::string& name) {
  try {
    // oneDNN's kernels keep a plain host copy of each tensor beside the library's (blocked) layout.
    PreparedModel& model = cached_model(name, plan, make_cpu_part, host_available_bytes(), 2.0);
    EnergyWindow energy(state);
    for (auto _ : state) model.run();
    energy.finish();
    report_model(state, model, plan);
  } catch (const dnn::LayerKernelError& e) {
    state.SkipWithError(e.what());
  }
}

// "layer1.0.conv1/bwd_data (conv2d)": how a check failure or a failed preparation names a part.
std::string part_name(const dnn::Workload& w, const dnn::LayerInstance& i) {
  const auto& l = w.layers[i.index];
  return l.name + " (" + l.op + ")";
}

std::string model_key(const std::string& backend, const ModelPlan& plan) {
  return "models." + backend + "." + plan.model + "." + plan.phase;
}

// About the memory a plan's kernels hold: a layer's analytic bytes (the tensors it reads and
// writes), an update's buffers (w, g and the state: the tensors it reads). Host copies and blocked
// layouts come on top, so a model refused by this estimate would not have fit.
double held_bytes_estimate(const ModelPlan& plan) {
  double bytes = 0.0;
  for (const auto& i : plan.covered) {
    const auto& l = plan.workload.layers[i.index];
    const auto optimizer = dnn::optimizer_of(l.op);
    if (i.pass || !optimizer) {
      bytes += l.bytes;
      continue;
    }
    const double buffers = *optimizer == dnn::Optimizer::adam ? 4.0 : *optimizer == dnn::Optimizer::sgd ? 2.0 : 3.0;
    bytes += buffers * sizeof(float) * static_cast<double>(dnn::OptimizerKernel::parameters_of(l));
  }
  return bytes;
}

std::string g_model_name;
std::unique_ptr<PreparedModel> g_model;

}  // namespace

std::vector<dnn::Workload> model_workloads(const Options& options) {
  std::vector<dnn::Workload> out;
  for (const auto& model : options.model_names) {
    for (const auto& phase : options.model_phases) {
      dnn::WorkloadOptions w;
      w.batch = options.model_batch;
      w.dtype = options.model_dtype;
      // As the layer families: attention runs as bmm + softmax + bmm, counted as such.
      w.fused_attention = false;
      if (phase == "train_sgd") w.train = "sgd";
      if (phase == "train_adam") w.train = "adam";
      out.push_back(dnn::build_workload(model, w));
    }
  }
  return out;
}

std::string model_phase_of(const dnn::Workload& workload) {
  if (workload.phase == "inference") return "inference";
  const std::string prefix = "training:";
  if (workload.phase.rfind(prefix, 0) == 0) return "train_" + workload.phase.substr(prefix.size());
  return workload.phase;
}

ModelPlan plan_model(const dnn::Workload& workload, const std::string& phase, const InstanceSupported& supported) {
  ModelPlan plan;
  plan.model = workload.model;
  plan.phase = phase;
  plan.batch = workload.batch;
  plan.workload = workload;
  std::map<std::string, std::pair<int, std::string>> left_out;  // op/token -> count, reason
  double covered_flops = 0.0;
  for (const auto& instance : dnn::layer_instances(plan.workload)) {
    const auto& l = plan.workload.layers[instance.index];
    std::string why;
    const bool runs = instance.has_forward ? supported(plan.workload, instance, &why) : false;
    if (!instance.has_forward) why = "its forward layer is not in the workload";
    if (runs) {
      plan.covered.push_back(instance);
      covered_flops += l.flops;
      continue;
    }
    auto& entry = left_out[l.op + "/" + instance.token];
    ++entry.first;
    entry.second = why;
  }
  for (const auto& [what, entry] : left_out) {
    plan.uncovered.push_back(what + " x" + std::to_string(entry.first) + " (" + entry.second + ")");
    plan.uncovered_tokens.push_back("uncovered:" + what + ":x" + std::to_string(entry.first));
  }
  const double total = plan.workload.total_flops();
  plan.coverage = total > 0.0 ? covered_flops / total : (left_out.empty() ? 1.0 : 0.0);
  return plan;
}

std::string model_benchmark_name(const std::string& backend, const ModelPlan& plan) {
  return results::format_name(results::ModelName{backend, plan.model, plan.phase, plan.batch});
}

void PreparedModel::run() {
  for (auto& part : m_parts) {
    if (part.layer) {
      part.layer->run();
    } else {
      part.update->run();
    }
  }
}

bool PreparedModel::check(benchmark::State& state) {
  const auto failure = first_failure();
  if (failure) state.SkipWithError(failure->c_str());
  return !failure;
}

std::optional<std::string> PreparedModel::first_failure() {
  for (auto& part : m_parts) {
    const double error = part.layer ? part.layer->max_relative_error() : part.update->max_relative_error();
    const double tolerance = part.layer ? part.layer->tolerance() : part.update->tolerance();
    if (auto failure = result_check_failure(error, tolerance, "layer " + part.what)) return failure;
  }
  return std::nullopt;
}

PreparedModel& cached_model(const std::string& name, const ModelPlan& plan, const MakePart& make,
                            std::optional<double> available_bytes, double copies) {
  if (g_model && g_model_name == name) return *g_model;
  release_cached_model();  // free the previous model's buffers first, and any layer kernel's
  release_cached_layer_kernel();
  const double needed = held_bytes_estimate(plan) * copies;
  if (available_bytes && needed > *available_bytes) {
    throw dnn::LayerKernelError(name + " does not fit: its layers' tensors need about " + gib(needed) +
                                (copies != 1.0 ? " (" + results::format_number(copies) + " copies)" : std::string()) +
                                ", " + gib(*available_bytes) + " available");
  }
  std::vector<ModelPart> parts;
  parts.reserve(plan.covered.size());
  for (const auto& instance : plan.covered) {
    const std::string what = part_name(plan.workload, instance);
    try {
      ModelPart part = make(plan.workload, instance);
      part.what = what;
      if (part.layer) part.layer->prepare();
      if (part.update) part.update->prepare();
      parts.push_back(std::move(part));
    } catch (const std::bad_alloc&) {
      throw dnn::LayerKernelError(name + " does not fit: out of memory preparing layer " + what + " (" +
                                  std::to_string(parts.size()) + " of " + std::to_string(plan.covered.size()) +
                                  " layers prepared)");
    } catch (const std::exception& e) {
      // A failed allocation on the GPU is a CUDA error: which layer it hit is what tells whether
      // the model did not fit.
      throw dnn::LayerKernelError(name + ": preparing layer " + what + " (" + std::to_string(parts.size()) + " of " +
                                  std::to_string(plan.covered.size()) + " layers prepared): " + e.what());
    }
  }
  g_model = std::make_unique<PreparedModel>(std::move(parts));
  g_model_name = name;
  return *g_model;
}

void release_cached_model() {
  g_model.reset();
  g_model_name.clear();
}

void report_model(benchmark::State& state, PreparedModel& model, const ModelPlan& plan) {
  if (!model.check(state)) return;
  set_work_counters(state, {plan.workload.total_flops(), plan.workload.total_bytes()});
  state.counters[results::counters::coverage] = plan.coverage;
  state.counters[results::counters::layers] = static_cast<double>(model.size());
  state.SetLabel(join(plan.uncovered_tokens, " "));
}

int register_each_model(const std::vector<dnn::Workload>& workloads, const std::string& backend,
                        const InstanceSupported& supported,
                        const std::function<void(const std::string&, std::shared_ptr<const ModelPlan>)>& add,
                        Context& context) {
  int registered = 0;
  for (const auto& workload : workloads) {
    auto plan = std::make_shared<const ModelPlan>(plan_model(workload, model_phase_of(workload), supported));
    const std::string key = model_key(backend, *plan);
    if (!plan->uncovered.empty()) context[key + ".uncovered"] = join(plan->uncovered, "; ");
    if (plan->covered.empty()) {
      context[key + ".skipped"] = "no layer of the model has a kernel on this backend";
      continue;
    }
    add(model_benchmark_name(backend, *plan), plan);
    ++registered;
  }
  return registered;
}

void register_model_families(const Options& options, Context& context, bool cuda_usable) {
  if (options.model_names.empty()) return;
  const auto workloads = model_workloads(options);
  context["models.models"] = join(options.model_names, ",");
  context["models.phases"] = join(options.model_phases, ",");
  context["models.batch"] = std::to_string(options.model_batch);
  context["models.dtype"] = options.model_dtype;
  context["models.attention"] = "unfused: bmm + softmax + bmm, counted as such";
  const dnn::OptimizerSettings s;
  std::ostringstream optimizer;
  optimizer << "sgd lr " << s.lr << "; adam lr " << s.lr << " betas " << s.beta1 << "," << s.beta2 << " eps "
            << s.epsilon << "; fp32 state";
  context["models.optimizer"] = optimizer.str();

  if (const auto version = dnn::onednn_version()) {
    context[results::context::onednn_version] = *version;
    (void)register_each_model(
        workloads, "cpu", cpu_instance_supported,
        [](const std::string& name, std::shared_ptr<const ModelPlan> plan) {
          benchmark::RegisterBenchmark(
              name.c_str(), [plan, name](benchmark::State& state) { cpu_model_benchmark(state, *plan, name); })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        },
        context);
  } else {
    context["models.cpu.skipped"] = "built without oneDNN; configure with -DEDGEROOF_ENABLE_ONEDNN=ON";
  }

  if (cuda_usable) {
    (void)register_cuda_model_families(workloads, context);
  } else {
    context["models.cuda.skipped"] = "no usable GPU (see cuda.skipped)";
  }
}

}  // namespace edgeroof::bench
