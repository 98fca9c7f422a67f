#include "edgeroof/results/names.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace edgeroof::results {
namespace {

constexpr std::string_view compute_family = "compute";
constexpr std::string_view memory_family = "memory";
constexpr std::string_view layer_family = "layer";
constexpr std::string_view model_family = "model";

std::vector<std::string_view> split_at_slash(std::string_view name) {
  std::vector<std::string_view> parts;
  for (std::size_t at = 0;;) {
    const std::size_t slash = name.find('/', at);
    if (slash == std::string_view::npos) {
      parts.push_back(name.substr(at));
      return parts;
    }
    parts.push_back(name.substr(at, slash - at));
    at = slash + 1;
  }
}

// The value of "key:value", or nullopt when the part has another key.
std::optional<std::string_view> param_value(std::string_view part, std::string_view key) {
  if (part.size() <= key.size() || part.compare(0, key.size(), key) != 0 || part[key.size()] != ':')
    return std::nullopt;
  return part.substr(key.size() + 1);
}

// A positive whole number in canonical decimal form (no sign, no leading zero) that fits `max`.
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 20 || text[0] == '0') return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (max - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

// A positive finite number written exactly as format_number writes it.
std::optional<double> parse_intensity(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0.0 || format_number(v) != s) return std::nullopt;
  return v;
}

// Calls stop(word) on each word of a label, split at spaces and commas, until it returns true;
// returns whether it did. Allocates nothing: a grid sweep's fit reads hundreds of thousands of labels.
template <class Stop>
bool for_each_token(std::string_view label, Stop stop) {
  auto separator = [](char c) { return c == ' ' || c == ','; };
  for (std::size_t i = 0; i < label.size();) {
    while (i < label.size() && separator(label[i])) ++i;
    std::size_t end = i;
    while (end < label.size() && !separator(label[end])) ++end;
    if (end > i && stop(label.substr(i, end - i))) return true;
    i = end;
  }
  return false;
}

bool any_empty(const std::vector<std::string_view>& parts) {
  for (auto p : parts) {
    if (p.empty()) return true;
  }
  return false;
}

std::optional<BenchmarkName> parse_compute(const std::vector<std::string_view>& parts) {
  if (parts.size() != 4) return std::nullopt;
  const std::string backend(parts[1]), what(parts[2]);
  if (const auto ai = param_value(parts[3], "ai")) {
    const auto v = parse_intensity(*ai);
    if (!v) return std::nullopt;
    return ComputeName{backend, what, *v};
  }
  if (const auto n = param_value(parts[3], "gemm")) {
    const auto v = parse_count(*n, std::numeric_limits<std::int64_t>::max());
    if (!v) return std::nullopt;
    return GemmName{backend, what, static_cast<std::int64_t>(*v)};
  }
  return std::nullopt;
}

std::optional<BenchmarkName> parse_memory(const std::vector<std::string_view>& parts) {
  if (parts.size() != 4) return std::nullopt;
  const auto bytes = param_value(parts[3], "bytes");
  const auto v = bytes ? parse_count(*bytes, std::numeric_limits<std::uint64_t>::max()) : std::nullopt;
  if (!v) return std::nullopt;
  return MemoryName{std::string(parts[1]), std::string(parts[2]), *v};
}

std::optional<BenchmarkName> parse_layer(const std::vector<std::string_view>& parts) {
  if (parts.size() < 6) return std::nullopt;
  const auto bs = param_value(parts.back(), "bs");
  const auto batch = bs ? parse_count(*bs, std::numeric_limits<std::int64_t>::max()) : std::nullopt;
  if (!batch) return std::nullopt;
  LayerName n{std::string(parts[1]), std::string(parts[2]), std::string(parts[3]), std::string(parts[parts.size() - 2]),
              static_cast<std::int64_t>(*batch)};
  for (std::size_t i = 4; i + 2 < parts.size(); ++i) n.layer += "/" + std::string(parts[i]);
  return n;
}

std::optional<BenchmarkName> parse_model(const std::vector<std::string_view>& parts) {
  if (parts.size() != 5 || !is_model_phase(parts[3])) return std::nullopt;
  const auto bs = param_value(parts[4], "bs");
  const auto batch = bs ? parse_count(*bs, std::numeric_limits<std::int64_t>::max()) : std::nullopt;
  if (!batch) return std::nullopt;
  return ModelName{std::string(parts[1]), std::string(parts[2]), std::string(parts[3]),
                   static_cast<std::int64_t>(*batch)};
}

}  // namespace

bool is_model_phase(std::string_view phase) {
  for (const char* p : model_phases) {
    if (phase == p) return true;
  }
  return false;
}

std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", x);
  return buf;
}

std::string format_name(const ComputeName& n) {
  return std::string(compute_family) + "/" + n.backend + "/" + n.dtype + "/ai:" + format_number(n.ai);
}

std::string format_name(const GemmName& n) {
  return std::string(compute_family) + "/" + n.backend + "/" + n.type + "/gemm:" + std::to_string(n.n);
}

std::string format_name(const MemoryName& n) {
  return std::string(memory_family) + "/" + n.backend + "/" + n.kernel + "/bytes:" + std::to_string(n.bytes);
}

std::string format_name(const LayerName& n) {
  return std::string(layer_family) + "/" + n.backend + "/" + n.model + "/" + n.layer + "/" + n.token +
         "/bs:" + std::to_string(n.batch);
}

std::string format_name(const ModelName& n) {
  return std::string(model_family) + "/" + n.backend + "/" + n.model + "/" + n.phase + "/bs:" + std::to_string(n.batch);
}

std::string format_name(const BenchmarkName& name) {
  return std::visit([](const auto& n) { return format_name(n); }, name);
}

std::optional<BenchmarkName> parse_name(std::string_view name) {
  const auto parts = split_at_slash(name);
  if (parts.size() < 4 || any_empty(parts)) return std::nullopt;
  if (parts[0] == compute_family) return parse_compute(parts);
  if (parts[0] == memory_family) return parse_memory(parts);
  if (parts[0] == layer_family) return parse_layer(parts);
  if (parts[0] == model_family) return parse_model(parts);
  return std::nullopt;
}

std::string_view family_of(const BenchmarkName& name) {
  if (std::holds_alternative<MemoryName>(name)) return memory_family;
  if (std::holds_alternative<LayerName>(name)) return layer_family;
  if (std::holds_alternative<ModelName>(name)) return model_family;
  return compute_family;
}

const std::string& backend_of(const BenchmarkName& name) {
  return std::visit([](const auto& n) -> const std::string& { return n.backend; }, name);
}

std::optional<NameParts> split_name(std::string_view name) {
  NameParts n;
  // Every '/' separates a part, but a trailing one does not open an empty last part.
  for (auto p : split_at_slash(name)) n.parts.emplace_back(p);
  if (!n.parts.empty() && n.parts.back().empty() && !name.empty()) n.parts.pop_back();
  if (n.parts.size() < 4) return std::nullopt;
  n.family = n.parts[0];
  n.backend = n.parts[1];
  n.what = n.parts[2];
  const std::string& last = n.parts.back();
  const auto colon = last.find(':');
  if (colon != std::string::npos) {
    n.param_key = last.substr(0, colon);
    n.param_value = last.substr(colon + 1);
  }
  return n;
}

std::pair<std::string, std::string> split_layer_token(const std::string& layer_name) {
  const auto slash = layer_name.rfind('/');
  if (slash != std::string::npos && layer_name.compare(slash + 1, 3, "bwd") == 0) {
    return {layer_name.substr(0, slash), layer_name.substr(slash + 1)};
  }
  return {layer_name, "fwd"};
}

std::string ceiling_key(std::string_view backend, std::string_view what) {
  return std::string(backend) + "/" + std::string(what);
}

std::pair<std::string, std::string> split_ceiling_key(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(key), ""};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::vector<std::string_view> label_tokens(std::string_view label) {
  std::vector<std::string_view> tokens;
  for_each_token(label, [&](std::string_view t) {
    tokens.push_back(t);
    return false;
  });
  return tokens;
}

bool has_label_token(std::string_view label, std::string_view token) {
  return for_each_token(label, [&](std::string_view t) { return t == token; });
}

std::string add_label_token(const std::string& label, const std::string& token) {
  if (has_label_token(label, token)) return label;
  return label.empty() ? token : label + " " + token;
}

std::string level_token(std::string_view level) { return std::string(labels::level_prefix) + std::string(level); }

std::string level_of_label(std::string_view label) {
  const std::string_view prefix = labels::level_prefix;
  std::string level;
  for_each_token(label, [&](std::string_view t) {
    if (t.size() <= prefix.size() || t.compare(0, prefix.size(), prefix) != 0) return false;
    level = std::string(t.substr(prefix.size()));
    return true;
  });
  return level;
}

}  // namespace edgeroof::results
