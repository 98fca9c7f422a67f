#include "edgeroof/power/shard.hpp"

#include "edgeroof/power/sysfs.hpp"

namespace edgeroof::power {
namespace {

// Digits only: parse_int64 alone would take a sign, and "+1/4" is not how anyone writes a shard.
std::optional<std::size_t> whole(const std::string& text) {
  if (text.empty() || text.size() > 7 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const auto v = parse_int64(text);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<std::size_t>(*v);
}

}  // namespace

std::optional<Shard> make_shard(const std::string& index, const std::string& count) {
  const auto k = whole(index);
  const auto n = whole(count);
  if (!k || !n || *n < 1 || *n > max_shards || *k >= *n) return std::nullopt;
  return Shard{*k, *n};
}

std::optional<Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  return make_shard(text.substr(0, slash), text.substr(slash + 1));
}

}  // namespace edgeroof::power
