// One board's share of a sweep that N boards of one kind split (`sweep --shard K/N`, or
// EDGEROOF_SHARD_INDEX and EDGEROOF_SHARD_COUNT): K counts from 0, as Slurm's SLURM_ARRAY_TASK_ID
// and a CI matrix index do, so the same number goes into the flag and the variables.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::power {

// The most shards a sweep can be split into (as many as a grid can have modes).
inline constexpr std::size_t max_shards = 1000000;

struct Shard {
  std::size_t index = 0;  // K, 0 to count - 1
  std::size_t count = 1;  // N

  [[nodiscard]] std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// K and N as decimal digits (no sign, no spaces), N from 1 to max_shards, K below N; nullopt
// otherwise.
[[nodiscard]] std::optional<Shard> make_shard(const std::string& index, const std::string& count);
// "K/N"; nullopt for anything else.
[[nodiscard]] std::optional<Shard> parse_shard(const std::string& text);

// Round robin over the list in its order: shard K takes the items at positions i with
// i mod N == K, so each share is a spread of the list (not one corner of the mode space), the
// shares are disjoint, together they are the list, and their sizes differ by at most one.
template <typename T>
[[nodiscard]] std::vector<T> shard_of(const std::vector<T>& items, const Shard& shard) {
  std::vector<T> share;
  share.reserve(items.size() / shard.count + 1);
  for (std::size_t i = shard.index; i < items.size(); i += shard.count) share.push_back(items[i]);
  return share;
}

}  // namespace edgeroof::power
