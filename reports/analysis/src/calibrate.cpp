#include "edgeroof/reports/calibrate.hpp"

#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/si.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace edgeroof::reports {

namespace {

// Layers of the same shape share a benchmark: same pass token, FLOPs and bytes.
using ShapeKey = std::tuple<std::string, double, double>;

struct Shape {
  double flops = 0.0, bytes = 0.0;
  std::string file;
};

// One benchmark of this workload in one file, its figures checked.
struct Bench {
  std::string name, layer_token, token;  // layer_token: "<forward layer>/<token>" of a layer benchmark
  double flops = 0.0, bytes = 0.0;
  std::optional<double> coverage;  // a model benchmark's
  std::vector<double> times;       // real time of each repetition
};

// This workload's benchmarks in one file.
struct Found {
  std::vector<Bench> layers;
  std::optional<Bench> model;
  std::size_t ignored = 0;  // layer and model benchmarks of other models, batches or backends
};

std::string where(const ResultsFile& f, const std::string& name) { return f.path + ": benchmark " + excerpt(name); }

std::string number_text(double v) { return results::format_number(v); }

// A counter that must be there and positive: the layer's W or Q divides the bound and the efficiency.
double positive_counter(const ResultsFile& f, const std::string& name, const BenchmarkRecord& r, const char* key) {
  const auto v = r.counter(key);
  if (!v) throw InputError(where(f, name) + ": no " + key + " counter");
  if (!std::isfinite(*v) || *v <= 0.0)
    throw InputError(where(f, name) + ": " + key + " = " + number_text(*v) + " is not positive");
  return *v;
}

// The repetitions of one benchmark as one Bench: positive times, one shape in every repetition and
// in every file (`book`), and for a model benchmark its coverage in [0, 1].
Bench checked(const ResultsFile& f, const std::string& name, const std::vector<const BenchmarkRecord*>& reps,
              bool model, std::map<std::string, Shape>& book) {
  Bench b;
  b.name = name;
  for (std::size_t k = 0; k < reps.size(); ++k) {
    const auto& r = *reps[k];
    if (!std::isfinite(r.real_time_s) || r.real_time_s <= 0.0)
      throw InputError(where(f, name) + ": real_time = " + number_text(r.real_time_s) + " s is not positive");
    const double flops = positive_counter(f, name, r, "flops"), bytes = positive_counter(f, name, r, "bytes");
    const auto [it, fresh] = book.emplace(name, Shape{flops, bytes, f.path});
    if (!fresh && (it->second.flops != flops || it->second.bytes != bytes)) {
      throw InputError(where(f, name) + ": flops = " + number_text(flops) + ", bytes = " + number_text(bytes) +
                       " (repetition " + std::to_string(k) + "), but flops = " + number_text(it->second.flops) +
                       ", bytes = " + number_text(it->second.bytes) + " in " + it->second.file +
                       ": one benchmark with two shapes");
    }
    if (model) {
      const auto c = r.counter("coverage");
      if (!c) throw InputError(where(f, name) + ": no coverage counter (the share of the model's FLOPs it ran)");
      if (!std::isfinite(*c) || *c < 0.0 || *c > 1.0)
        throw InputError(where(f, name) + ": coverage = " + number_text(*c) + " is outside [0, 1]");
      b.coverage = std::min(b.coverage.value_or(1.0), *c);
    }
    b.flops = flops;
    b.bytes = bytes;
    b.times.push_back(r.real_time_s);
  }
  return b;
}

Found collect(const ResultsFile& f, const dnn::Workload& w, const std::string& backend,
              const std::optional<std::string>& phase, std::map<std::string, Shape>& book) {
  Found out;
  for (const auto& [name, reps] : repetitions_by_name(f)) {
    const auto parsed = results::parse_name(name);
    if (!parsed) continue;
    if (const auto* l = std::get_if<results::LayerName>(&*parsed)) {
      if (l->backend != backend || l->model != w.model || l->batch != w.batch) {
        ++out.ignored;
        continue;
      }
      auto b = checked(f, name, reps, false, book);
      b.layer_token = l->layer + "/" + l->token;
      b.token = l->token;
      out.layers.push_back(std::move(b));
    } else if (const auto* m = std::get_if<results::ModelName>(&*parsed)) {
      if (m->backend != backend || m->model != w.model || m->batch != w.batch || !phase || m->phase != *phase) {
        ++out.ignored;
        continue;
      }
      out.model = checked(f, name, reps, true, book);
    }
  }
  return out;
}

bool has_mode(const Rooflines& r, const std::string& key) {
  return std::any_of(r.modes.begin(), r.modes.end(), [&](const RooflineMode& m) { return m.key == key; });
}

// The mode a calibration file was measured in; refused where it cannot be told or is not fitted.
std::string calibration_mode(const ResultsFile& f, const Rooflines& r) {
  if (const auto key = f.context_value("power_mode.key")) {
    if (!has_mode(r, *key))
      throw InputError(f.path + ": power_mode.key = " + excerpt(*key) + " is not a mode of the rooflines");
    return *key;
  }
  if (r.modes.size() == 1) return r.modes.front().key;
  throw InputError(f.path + ": no power_mode.key in its context, and the rooflines hold " +
                   std::to_string(r.modes.size()) +
                   " modes: calibration needs the mode it was measured in (edgeroof sweep writes it; or "
                   "--benchmark_context=power_mode.key=KEY)");
}

// The merged model benchmark of several files of one mode.
void merge_model(std::optional<ModelMeasurement>& into, std::vector<double>& times, const Bench& b,
                 const std::string& file) {
  if (!into) into = ModelMeasurement{b.name, file, 0.0, 1.0};
  into->coverage = std::min(into->coverage, b.coverage.value_or(1.0));
  times.insert(times.end(), b.times.begin(), b.times.end());
  into->time_s = median(times);
}

struct Measured {
  std::map<std::string, std::vector<double>> by_name;  // "<forward name>/<token>" -> real times
  std::map<ShapeKey, std::vector<double>> by_shape;
};

const std::vector<double>* times_of(const Measured& m, const dnn::LayerCost& layer) {
  const auto [base, token] = results::split_layer_token(layer.name);
  if (const auto n = m.by_name.find(base + "/" + token); n != m.by_name.end()) return &n->second;
  if (const auto s = m.by_shape.find({token, layer.flops, layer.bytes}); s != m.by_shape.end()) return &s->second;
  return nullptr;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) out += (i == 0 ? "" : ", ") + excerpt(names[i], 60);
  if (names.size() > 3) out += ", ...";
  return out;
}

// η of every measured layer, then the op medians and the pure bound for the others.
void layer_efficiencies(Calibration& cal, const dnn::Workload& w, const std::vector<double>& bound_s,
                        const Measured& measured) {
  std::map<std::pair<std::string, std::string>, std::vector<double>> by_op;
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const auto* times = times_of(measured, w.layers[i]);
    if (times == nullptr || times->empty() || !(bound_s[i] > 0.0)) continue;
    auto& lc = cal.layers[i];
    lc.source = "layer";
    lc.measured_s = median(*times);
    lc.efficiency = bound_s[i] / *lc.measured_s;
    by_op[{w.layers[i].op, w.layers[i].phase}].push_back(lc.efficiency);
  }
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    auto& lc = cal.layers[i];
    const auto op = by_op.find({w.layers[i].op, w.layers[i].phase});
    if (lc.source == "layer" || op == by_op.end() || !(bound_s[i] > 0.0)) continue;
    lc.source = "op";
    lc.efficiency = median(op->second);
  }
}

// o or the scale from the model benchmark (the file comment says how), with a note either way.
void model_overhead(Calibration& cal, const std::optional<std::string>& phase) {
  const std::string expected =
      phase ? results::format_name(results::ModelName{cal.backend, cal.model, *phase, cal.batch})
            : "model/" + cal.backend + "/" + cal.model + "/<phase>/bs:" + std::to_string(cal.batch);
  if (!cal.model_run) {
    cal.notes.push_back("no model benchmark " + expected +
                        " in the calibration files: overhead o = 0 (the layers cost what they cost alone)");
    return;
  }
  const auto& m = *cal.model_run;
  if (!m.complete()) {
    char pct[32];
    std::snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * m.coverage);
    cal.notes.push_back("model benchmark " + m.name + " ran " + pct +
                        " of the FLOPs: not used (its time lacks the layers it skipped); overhead o = 0");
    return;
  }
  cal.model_used = true;
  const double delta = m.time_s - cal.layer_sum_s;
  const double n = static_cast<double>(cal.layers.size());
  const std::string figures =
      "model benchmark " + m.name + ": " + si(m.time_s, "s") + ", layers " + si(cal.layer_sum_s, "s");
  // The fixed part of Δ is at most the fastest measured layer's time per layer: no layer costs less
  // than its fixed cost. The rest of Δ is the layers running slower in sequence than alone, and
  // scales with them.
  double floor_s = std::numeric_limits<double>::infinity();
  for (const auto& lc : cal.layers) {
    if (lc.measured_s) floor_s = std::min(floor_s, *lc.measured_s);
  }
  cal.overhead_s = std::clamp(delta / n, 0.0, std::isfinite(floor_s) ? floor_s : 0.0);
  cal.scale = cal.layer_sum_s / (m.time_s - n * cal.overhead_s);
  for (auto& lc : cal.layers) lc.efficiency *= cal.scale;
  char s[32];
  std::snprintf(s, sizeof(s), "%.4g", cal.scale);
  std::string note = figures + ": overhead o = " + si(cal.overhead_s, "s") + " per layer (" +
                     std::to_string(cal.layers.size()) + " layers), in every mode";
  if (delta >= 0.0 && cal.overhead_s < delta / n) note += ", at most the fastest layer's " + si(floor_s, "s");
  if (cal.scale != 1.0) {
    note += delta < 0.0 ? "; the model is faster than its layers alone (they overlap or share caches): "
                        : "; the layers run slower in sequence than alone (cold caches): ";
    note += std::string("every efficiency scaled by ") + s;
  }
  cal.notes.push_back(note);
}

// The calibration files read into `cal` (its mode, files and model benchmark) and the layer times
// by name and shape; refused as calibrate() says.
struct Read {
  Measured measured;
  std::size_t ignored = 0;
  std::vector<std::string> empty_files;
};

Read read_files(Calibration& cal, const dnn::Workload& workload, const Rooflines& rooflines,
                const std::vector<ResultsFile>& files) {
  Read out;
  const auto phase = model_phase_of(workload);
  std::map<std::string, Shape> book;
  std::vector<double> model_times;
  for (const auto& f : files) {
    const auto found = collect(f, workload, cal.backend, phase, book);
    out.ignored += found.ignored;
    if (found.layers.empty() && !found.model) {
      out.empty_files.push_back(f.path);
      continue;
    }
    const std::string key = calibration_mode(f, rooflines);
    if (cal.files.empty()) cal.mode_key = key;
    if (key != cal.mode_key) {
      throw InputError(f.path + ": power_mode.key = " + excerpt(key) + ", but " + cal.files.front() + " is of mode " +
                       excerpt(cal.mode_key) + ": calibration files must come from one mode");
    }
    cal.files.push_back(f.path);
    for (const auto& b : found.layers) {
      auto& named = out.measured.by_name[b.layer_token];
      named.insert(named.end(), b.times.begin(), b.times.end());
      auto& shaped = out.measured.by_shape[{b.token, b.flops, b.bytes}];
      shaped.insert(shaped.end(), b.times.begin(), b.times.end());
    }
    if (found.model) merge_model(cal.model_run, model_times, *found.model, f.path);
  }
  if (cal.files.empty()) {
    std::string paths;
    for (const auto& f : files) paths += (paths.empty() ? "" : ", ") + f.path;
    throw InputError((paths.empty() ? std::string("--calibrate") : paths) + ": no layer benchmark layer/" +
                     cal.backend + "/" + workload.model + "/.../bs:" + std::to_string(workload.batch) +
                     " and no model benchmark of it: nothing to calibrate with");
  }
  return out;
}

}  // namespace

std::size_t Calibration::count(const std::string& source) const {
  return static_cast<std::size_t>(
      std::count_if(layers.begin(), layers.end(), [&](const LayerCalibration& l) { return l.source == source; }));
}

std::optional<std::string> model_phase_of(const dnn::Workload& workload) {
  if (workload.phase == "inference") return std::string("inference");
  if (workload.phase == "training:sgd") return std::string("train_sgd");
  if (workload.phase == "training:adam") return std::string("train_adam");
  return std::nullopt;
}

std::map<std::string, ModelMeasurement> model_measurements(const dnn::Workload& workload, const std::string& backend,
                                                           const Rooflines& rooflines,
                                                           const std::vector<ResultsFile>& files) {
  const auto phase = model_phase_of(workload);
  std::map<std::string, Shape> book;
  std::map<std::string, std::optional<ModelMeasurement>> found;
  std::map<std::string, std::vector<double>> times;
  for (const auto& f : files) {
    const auto model = collect(f, workload, backend, phase, book).model;
    if (!model) continue;
    const bool unnamed = !f.context_value("power_mode.key") && rooflines.modes.size() == 1;
    const std::string key = unnamed ? rooflines.modes.front().key : mode_key_of(f);
    merge_model(found[key], times[key], *model, f.path);
  }
  std::map<std::string, ModelMeasurement> out;
  for (const auto& [key, m] : found) out.emplace(key, *m);
  return out;
}

Calibration calibrate(const dnn::Workload& workload, const Rooflines& rooflines, const PredictOptions& options,
                      const std::vector<ResultsFile>& files) {
  Calibration cal;
  cal.model = workload.model;
  cal.backend = options.backend;
  cal.batch = workload.batch;
  cal.layers.resize(workload.layers.size());
  const auto read = read_files(cal, workload, rooflines, files);
  const auto& measured = read.measured;
  const auto phase = model_phase_of(workload);
  const auto& mode = *std::find_if(rooflines.modes.begin(), rooflines.modes.end(),
                                   [&](const RooflineMode& m) { return m.key == cal.mode_key; });
  const WorkloadCoster coster(workload, options);
  const auto charges = coster.charges(mode);
  std::vector<double> bound_s(workload.layers.size());
  for (std::size_t i = 0; i < workload.layers.size(); ++i)
    bound_s[i] = charges[coster.group_of(i)].model.time_s(workload.layers[i].flops, workload.layers[i].bytes);
  layer_efficiencies(cal, workload, bound_s, measured);
  std::vector<std::string> beats;
  for (std::size_t i = 0; i < workload.layers.size(); ++i) {
    cal.layer_sum_s += bound_s[i] / cal.layers[i].efficiency;
    if (cal.layers[i].source == "layer" && cal.layers[i].beats_bound()) beats.push_back(workload.layers[i].name);
  }
  cal.notes.push_back("calibrated in mode " + cal.mode_key + ": " + std::to_string(cal.count("layer")) + " of " +
                      std::to_string(cal.layers.size()) + " layers by their benchmark, " +
                      std::to_string(cal.count("op")) + " by the median of their op, " +
                      std::to_string(cal.count("none")) + " uncalibrated (the pure bound)");
  if (!beats.empty()) {
    cal.notes.push_back(std::to_string(beats.size()) +
                        " layer(s) ran faster than their bound (efficiency above 1, kept: the rooflines under-state "
                        "their ceiling, e.g. cache-resident data beat the " +
                        options.level + " roof): " + names_text(beats));
  }
  model_overhead(cal, phase);
  if (read.ignored > 0)
    cal.notes.push_back("ignored " + std::to_string(read.ignored) +
                        " layer or model benchmark(s) of other models, batches, "
                        "phases or backends");
  if (!read.empty_files.empty())
    cal.notes.push_back("ignored " + std::to_string(read.empty_files.size()) +
                        " file(s) without benchmarks of this workload: " + names_text(read.empty_files));
  return cal;
}

}  // namespace edgeroof::reports
