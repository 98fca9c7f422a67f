// Fuzz body for the results reader (reports::parse_results) and the two commands that read what it
// returns: compare (a pair of files, with a few option sets) and fit. The input is one Google
// Benchmark JSON file, or two split at fuzz::kPairSeparator (old, then new); one file is compared
// with itself. InputError is the documented refusal; anything else escaping is a bug.
#include "edgeroof/reports/compare.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/results.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace {

using namespace edgeroof::reports;

std::optional<ResultsFile> parse(std::string_view text, const std::string& origin) {
  try {
    return parse_results(std::string(text), origin);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

bool is_contract_counter(const std::string& key) {
  for (const char* k : {"flops", "bytes", "ai", "FLOP/s", "B/s", "energy_J", "power_W", "clock_min_ratio", "throttled"})
    if (key == k) return true;
  return key.rfind("energy_J.", 0) == 0;
}

// What the reader hands on is a number the rest can compute with: finite, and the times and the
// contract's counters (README.md, Contracts) not negative.
void check_records(const ResultsFile& file) {
  for (const auto& b : file.benchmarks) {
    for (const auto& [key, value] : b.counters) {
      EDGEROOF_FUZZ_REQUIRE(std::isfinite(value));
      if (is_contract_counter(key)) EDGEROOF_FUZZ_REQUIRE(value >= 0.0);
    }
    if (b.error) continue;
    EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(b.real_time_s));
    EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(b.cpu_time_s));
    EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(b.iterations));
  }
}

void check_comparison(const Comparison& c, bool same_file) {
  int regressions = 0;
  for (const auto& row : c.rows) {
    EDGEROOF_FUZZ_REQUIRE(!std::isnan(row.old_value) && !std::isnan(row.new_value) && !std::isnan(row.change));
    EDGEROOF_FUZZ_REQUIRE(row.old_repetitions >= 1 && row.new_repetitions >= 1);
    if (row.pvalue) EDGEROOF_FUZZ_REQUIRE(*row.pvalue >= 0.0 && *row.pvalue <= 1.0);
    regressions += row.regression ? 1 : 0;
    // A file against itself changes nothing.
    if (same_file) EDGEROOF_FUZZ_REQUIRE(row.change == 0.0 && row.verdict == Verdict::same);
  }
  for (const auto& u : c.unpaired) regressions += u.regression ? 1 : 0;
  EDGEROOF_FUZZ_REQUIRE(regressions == c.regressions);
  if (same_file) EDGEROOF_FUZZ_REQUIRE(c.regressions == 0);
  (void)to_json(c).dump();
}

void compare_variants(const ResultsFile& old_file, const ResultsFile& new_file, bool same_file) {
  CompareOptions loose;  // every change counts
  loose.threshold = 0.0;
  loose.alpha = 1.0;
  CompareOptions filtered;
  filtered.filter = "^(compute|memory)/cpu/";
  for (const auto& options : {CompareOptions{}, loose, filtered}) {
    try {
      check_comparison(compare_results(old_file, new_file, options), same_file);
    } catch (const InputError&) {
      // no benchmark in common
    }
  }
  CompareOptions bad_filter;
  bad_filter.filter = "([";
  bool refused = false;
  try {
    (void)compare_results(old_file, new_file, bad_filter);
  } catch (const InputError&) {
    refused = true;
  }
  EDGEROOF_FUZZ_REQUIRE(refused);
}

// fit's output is what predict and tune read back: it must be sane and survive its own reader.
void fit_and_reload(const std::vector<ResultsFile>& files) {
  Rooflines fitted;
  try {
    fitted = fit_rooflines(files);
  } catch (const InputError&) {
    return;
  }
  for (const auto& mode : fitted.modes) {
    for (const auto* table : {&mode.compute_flops_per_s, &mode.bandwidth_bytes_per_s})
      for (const auto& [key, ceiling] : *table) EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(ceiling.value));
    for (const auto& [backend, e] : mode.energy) {
      for (const auto* eps : {&e.eps_flop_J, &e.eps_byte_J})
        for (const auto& [key, value] : *eps) EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(value));
      EDGEROOF_FUZZ_REQUIRE(edgeroof::fuzz::non_negative(e.static_W));
    }
  }
  const auto text = edgeroof::fuzz::written(to_json(fitted));
  Rooflines reread;
  try {
    reread = rooflines_from_json(nlohmann::json::parse(text), "rooflines.json");
  } catch (const InputError& e) {
    EDGEROOF_FUZZ_FAIL("fit wrote a rooflines file its reader refuses", e.what());
  }
  EDGEROOF_FUZZ_REQUIRE(reread.modes.size() == fitted.modes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto pair = edgeroof::fuzz::split_pair({reinterpret_cast<const char*>(data), size});
  const auto old_file = parse(pair.first, "old.json");
  const auto new_file = pair.same ? old_file : parse(pair.second, "new.json");
  if (!old_file || !new_file) return 0;
  check_records(*old_file);
  if (!pair.same) check_records(*new_file);
  compare_variants(*old_file, *new_file, pair.same);
  fit_and_reload(pair.same ? std::vector<ResultsFile>{*old_file} : std::vector<ResultsFile>{*old_file, *new_file});
  return 0;
}
