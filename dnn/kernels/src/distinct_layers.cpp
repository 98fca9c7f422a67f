// Distinct-shape grouping: which layers of a model are one benchmark (README.md, Contracts:
// benchmark names), and the pass and phase token of each.
#include "layer_problem.hpp"

#include <algorithm>
#include <map>
#include <variant>

namespace edgeroof::dnn {

std::optional<Pass> pass_of(std::string_view phase) {
  if (phase == "forward") return Pass::forward;
  if (phase == "backward_data") return Pass::backward_data;
  if (phase == "backward_weights") return Pass::backward_weights;
  return std::nullopt;
}

std::string pass_token(Pass pass, std::string_view op) {
  switch (pass) {
  case Pass::forward:
    return "fwd";
  case Pass::backward_data:
    return "bwd_data";
  case Pass::backward_weights:
    return op == "conv2d" ? "bwd_filter" : "bwd_weights";
  }
  return "?";
}

namespace {

// What makes two layers the same benchmark: everything their kernel is made from.
std::string shape_key(const LayerCost& l, Pass pass) {
  std::string key = l.op + "|" + l.dtype + "|" + pass_token(pass, l.op) + "|";
  for (const auto& s : l.inputs) key += detail::bracket_text(s);
  key += "->";
  for (const auto& s : l.outputs) key += detail::bracket_text(s);
  for (const auto& [name, values] : attrs_of(l.params)) key += "|" + name + "=" + detail::bracket_text(values);
  if (const auto* norm = std::get_if<NormParams>(&l.params)) key += "|epsilon=" + std::to_string(norm->epsilon);
  if (l.step == Step::training) key += "|training";
  return key;
}

std::string base_name(const std::string& name) { return name.substr(0, name.find('/')); }

}  // namespace

std::vector<DistinctLayer> distinct_layers(const Workload& inference, const Workload* training) {
  std::vector<DistinctLayer> out;
  std::map<std::string, std::size_t> seen;
  auto add = [&](const LayerCost& forward, const LayerCost& counted, Pass pass, const std::string& token) {
    const std::string key = shape_key(forward, pass) + "|" + token;
    const auto [it, fresh] = seen.emplace(key, out.size());
    if (fresh) {
      out.push_back({forward, counted, pass, token, 1});
    } else {
      ++out[it->second].instances;
    }
  };
  for (const auto& l : inference.layers) {
    if (pass_of(l.phase) == Pass::forward) add(l, l, Pass::forward, "fwd");
  }
  if (training == nullptr) return out;
  // A layer whose training forward is another computation (batchnorm with the batch's statistics)
  // gets a second forward benchmark, fwd_train, made from its training LayerCost (Step::training).
  std::map<std::string, const LayerCost*> inference_forward;
  for (const auto& l : inference.layers) inference_forward.emplace(l.name, &l);
  for (const auto& l : training->layers) {
    if (pass_of(l.phase) != Pass::forward) continue;
    const auto it = inference_forward.find(l.name);
    if (it == inference_forward.end() || (it->second->flops == l.flops && it->second->bytes == l.bytes)) continue;
    LayerCost marked = l;  // a hand-made table may leave the step out
    marked.step = Step::training;
    add(marked, l, Pass::forward, "fwd_train");
  }
  std::map<std::string, std::pair<std::size_t, const LayerCost*>> forward_of;  // position, layer
  for (const auto& l : training->layers) {
    if (pass_of(l.phase) == Pass::forward) forward_of.emplace(base_name(l.name), std::make_pair(forward_of.size(), &l));
  }
  // A training table lists the backward in reverse; take it in forward order so that a shape is
  // named after the first layer that has it, as in the forward.
  std::vector<std::pair<std::size_t, const LayerCost*>> backward;
  for (const auto& l : training->layers) {
    const auto pass = pass_of(l.phase);
    if (!pass || *pass == Pass::forward) continue;
    const auto f = forward_of.find(base_name(l.name));
    if (f != forward_of.end()) backward.emplace_back(f->second.first, &l);
  }
  std::stable_sort(backward.begin(), backward.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [position, layer] : backward) {
    const LayerCost& l = *layer;
    auto pass = *pass_of(l.phase);
    const auto slash = l.name.find('/');
    const std::string token = slash == std::string::npos ? pass_token(pass, l.op) : l.name.substr(slash + 1);
    if (token == "bwd_b") pass = Pass::backward_weights;
    add(*forward_of.at(base_name(l.name)).second, l, pass, token);
  }
  return out;
}

std::vector<LayerInstance> layer_instances(const Workload& workload) {
  std::map<std::string, std::size_t> forward_of;
  for (std::size_t i = 0; i < workload.layers.size(); ++i) {
    if (pass_of(workload.layers[i].phase) == Pass::forward) forward_of.emplace(base_name(workload.layers[i].name), i);
  }
  std::vector<LayerInstance> out;
  for (std::size_t i = 0; i < workload.layers.size(); ++i) {
    const LayerCost& l = workload.layers[i];
    LayerInstance instance;
    instance.index = i;
    instance.forward = i;
    instance.pass = pass_of(l.phase);
    if (!instance.pass) {
      instance.token = l.phase == "optimizer" ? "update" : l.phase;
    } else if (*instance.pass == Pass::forward) {
      instance.token = "fwd";
    } else {
      const auto slash = l.name.find('/');
      instance.token = slash == std::string::npos ? pass_token(*instance.pass, l.op) : l.name.substr(slash + 1);
      if (instance.token == "bwd_b") instance.pass = Pass::backward_weights;  // as distinct_layers()
      const auto f = forward_of.find(base_name(l.name));
      instance.has_forward = f != forward_of.end();
      if (instance.has_forward) instance.forward = f->second;
    }
    out.push_back(std::move(instance));
  }
  return out;
}

}  // namespace edgeroof::dnn
