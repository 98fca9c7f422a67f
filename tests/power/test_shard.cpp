// The shard of a sweep (power/shard.hpp): K/N parsed strictly, and round robin shares checked
// against the positions computed here for every N up to a list of 13 and one past it.
#include "edgeroof/power/shard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

using edgeroof::power::make_shard;
using edgeroof::power::parse_shard;
using edgeroof::power::Shard;
using edgeroof::power::shard_of;

TEST(Shard, ParsesKOfNCountingFromZero) {
  const auto s = parse_shard("2/3");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 3u);
  EXPECT_EQ(s->text(), "2/3");
  EXPECT_TRUE(parse_shard("0/1").has_value());
  EXPECT_EQ(parse_shard("999999/1000000")->index, 999999u);
  EXPECT_EQ(make_shard("3", "4")->text(), "3/4");
}

TEST(Shard, RefusesJunkAndOutOfRange) {
  for (const char* bad : {"",
                          "/",
                          "1",
                          "1/",
                          "/4",
                          "4/4",
                          "5/4",
                          "0/0",
                          "-1/4",
                          "+1/4",
                          " 1/4",
                          "1/4 ",
                          "1/ 4",
                          "1/4/4",
                          "1.0/4",
                          "0x1/4",
                          "a/b",
                          "0/1000001",
                          "0/99999999999999999999",
                          "1\n/4"}) {
    EXPECT_FALSE(parse_shard(bad).has_value()) << "'" << bad << "'";
  }
  EXPECT_FALSE(make_shard("", "4").has_value());
  EXPECT_FALSE(make_shard("4", "4").has_value());
  EXPECT_FALSE(make_shard("0", "0").has_value());
}

TEST(Shard, SharesAreDisjointCoverTheListAndDifferByOneAtMost) {
  std::vector<int> items(13);
  std::iota(items.begin(), items.end(), 100);
  for (std::size_t n = 1; n <= items.size() + 1; ++n) {
    std::multiset<int> all;
    std::size_t smallest = items.size(), largest = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const auto share = shard_of(items, Shard{k, n});
      // Exactly the positions k, k+n, k+2n, ... in the list's order.
      std::vector<int> expected;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i % n == k) expected.push_back(items[i]);
      }
      EXPECT_EQ(share, expected) << k << "/" << n;
      all.insert(share.begin(), share.end());
      smallest = std::min(smallest, share.size());
      largest = std::max(largest, share.size());
    }
    EXPECT_EQ(all, std::multiset<int>(items.begin(), items.end())) << n;  // each item once
    EXPECT_LE(largest - smallest, 1u) << n;
  }
  // 14 shards of 13 modes: the last one is empty.
  EXPECT_TRUE(shard_of(items, Shard{13, 14}).empty());
  EXPECT_EQ(shard_of(items, Shard{2, 3}), (std::vector<int>{102, 105, 108, 111}));
}
