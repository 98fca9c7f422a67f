#include "layer_families.hpp"

#include "harness.hpp"
#include "model_families.hpp"

#include "edgeroof/results/names.hpp"

#include <map>
#include <utility>

namespace edgeroof::bench {
std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

namespace {

void cpu_layer_benchmark(benchmark::State& state, const dnn::DistinctLayer& layer, const std::string& name) {
  try {
    dnn::LayerKernel& kernel =
        cached_layer_kernel(name, [&] { return dnn::make_cpu_layer_kernel(layer.forward, layer.pass); });
    EnergyWindow energy(state);
    for (auto _ : state) kernel.run();
    energy.finish();
    report_layer(state, kernel, layer);
  } catch (const dnn::LayerKernelError& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

std::vector<ModelLayers> layer_workloads(const Options& options) {
  std::vector<ModelLayers> out;
  for (const auto& model : options.layer_models) {
    dnn::WorkloadOptions w;
    w.batch = options.layer_batch;
    w.dtype = options.layer_dtype;
    // Attention runs as the library calls it is made of (bmm, softmax, bmm), counted as such: there
    // is no fused attention kernel here.
    w.fused_attention = false;
    const dnn::Workload inference = dnn::build_workload(model, w);
    w.train = "sgd";  // the optimizer does not matter: its update has no layer kernel
    const dnn::Workload training = dnn::build_workload(model, w);
    out.push_back({model, options.layer_batch, dnn::distinct_layers(inference, &training)});
  }
  return out;
}

std::string layer_benchmark_name(const std::string& backend, const ModelLayers& model,
                                 const dnn::DistinctLayer& layer) {
  return results::format_name(results::LayerName{backend, model.model, layer.forward.name, layer.token, model.batch});
}

void report_layer(benchmark::State& state, dnn::LayerKernel& kernel, const dnn::DistinctLayer& layer) {
  if (!check_result(state, kernel.max_relative_error(), kernel.tolerance())) return;
  set_work_counters(state, {layer.counted.flops, layer.counted.bytes});
  state.counters["instances"] = layer.instances;
  state.SetLabel(kernel.algorithm());
}

namespace {
std::string cached_name;
std::unique_ptr<dnn::LayerKernel> cached;
}  // namespace

void release_cached_layer_kernel() {
  cached.reset();
  cached_name.clear();
}

dnn::LayerKernel& cached_layer_kernel(const std::string& name,
                                      const std::function<std::unique_ptr<dnn::LayerKernel>()>& make) {
  if (cached && cached_name == name) return *cached;
  release_cached_layer_kernel();  // free the previous layer's tensors first
  release_cached_model();         // and a whole model's
  auto kernel = make();
  kernel->prepare();
  cached = std::move(kernel);
  cached_name = name;
  return *cached;
}

int register_each_layer(const std::shared_ptr<const std::vector<ModelLayers>>& models, const std::string& backend,
                        const std::function<bool(const dnn::DistinctLayer&, std::string*)>& supported,
                        const std::function<void(const std::string&, std::size_t, std::size_t)>& add,
                        Context& context) {
  std::map<std::string, std::pair<int, std::string>> unsupported;
  int registered = 0;
  for (std::size_t m = 0; m < models->size(); ++m) {
    for (std::size_t i = 0; i < (*models)[m].layers.size(); ++i) {
      const auto& layer = (*models)[m].layers[i];
      std::string why;
      if (!supported(layer, &why)) {
        auto& entry = unsupported[layer.forward.op + "/" + layer.token];
        entry.first += layer.instances;
        entry.second = why;
        continue;
      }
      add(layer_benchmark_name(backend, (*models)[m], layer), m, i);
      ++registered;
    }
  }
  std::vector<std::string> left_out;
  for (const auto& [what, entry] : unsupported)
    left_out.push_back(what + " x" + std::to_string(entry.first) + " (" + entry.second + ")");
  if (!left_out.empty()) context["layers." + backend + ".unsupported"] = join(left_out, "; ");
  return registered;
}

void register_layer_families(const Options& options, Context& context, bool cuda_usable) {
  if (options.layer_models.empty()) return;
  const auto models = std::make_shared<const std::vector<ModelLayers>>(layer_workloads(options));
  context["layers.models"] = join(options.layer_models, ",");
  context["layers.batch"] = std::to_string(options.layer_batch);
  context["layers.dtype"] = options.layer_dtype;
  context["layers.attention"] = "unfused: bmm + softmax + bmm, counted as such";

  if (const auto version = dnn::onednn_version()) {
    context["onednn.version"] = *version;
    (void)register_each_layer(
        models, "cpu",
        [](const dnn::DistinctLayer& l, std::string* why) { return dnn::cpu_layer_supported(l.forward, l.pass, why); },
        [&](const std::string& name, std::size_t m, std::size_t i) {
          benchmark::RegisterBenchmark(name.c_str(),
                                       [models, m, i, name](benchmark::State& state) {
                                         cpu_layer_benchmark(state, (*models)[m].layers[i], name);
                                       })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        },
        context);
  } else {
    context["layers.cpu.skipped"] = "built without oneDNN; configure with -DEDGEROOF_ENABLE_ONEDNN=ON";
  }

  if (cuda_usable) {
    (void)register_cuda_layer_families(models, options, context);
  } else {
    context["layers.cuda.skipped"] = "no usable GPU (see cuda.skipped)";
  }
}

}  // namespace edgeroof::bench
