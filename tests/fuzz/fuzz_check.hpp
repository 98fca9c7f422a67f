// What the fuzz bodies share: a broken promise aborts with the condition and its line (libFuzzer
// reports it like a memory error and keeps the input), and a pair of files travels in one input.
#pragma once

#include "edgeroof/dnn/workload.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#define EDGEROOF_FUZZ_REQUIRE(cond)                                           \
  do {                                                                        \
    if (!(cond)) ::edgeroof::fuzz::broken_promise(#cond, __FILE__, __LINE__); \
  } while (false)

namespace edgeroof::fuzz {

[[noreturn]] inline void broken_promise(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz: broken promise at %s:%d: %s\n", file, line, what);
  std::abort();
}

// A promise broken with a reason: an exception that should not have been thrown.
#define EDGEROOF_FUZZ_FAIL(what, reason) \
  ::edgeroof::fuzz::broken_promise((std::string(what) + ": " + (reason)).c_str(), __FILE__, __LINE__)

// Neither NaN nor infinite nor below zero: what a time, a rate or an energy can be.
[[nodiscard]] inline bool non_negative(double v) { return std::isfinite(v) && v >= 0.0; }

// JSON text as the CLI writes it (cli.cpp json_text): names from ONNX files need not be UTF-8.
[[nodiscard]] inline std::string written(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A workload's counts, whoever read them: FLOPs and bytes predict can use, no negative dimension.
inline void check_counts(const dnn::Workload& w) {
  for (const auto& l : w.layers) {
    EDGEROOF_FUZZ_REQUIRE(non_negative(l.flops) && non_negative(l.bytes));
    for (const auto* shapes : {&l.inputs, &l.outputs})
      for (const auto& shape : *shapes)
        for (const auto d : shape) EDGEROOF_FUZZ_REQUIRE(d >= 0);
  }
}

// For readers that take a path: the input written to this process's scratch file (one per
// suffix, removed at exit), whose path is returned.
inline std::string write_scratch(std::string_view bytes, const std::string& suffix) {
  const auto path =
      (std::filesystem::temp_directory_path() / ("edgeroof_fuzz_" + std::to_string(::getpid()) + suffix)).string();
  static std::vector<std::string> scratch;
  if (scratch.empty())
    std::atexit([] {
      for (const auto& p : scratch) std::remove(p.c_str());
    });
  if (std::find(scratch.begin(), scratch.end(), path) == scratch.end()) scratch.push_back(path);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EDGEROOF_FUZZ_REQUIRE(f != nullptr);
  const bool complete = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  EDGEROOF_FUZZ_REQUIRE(std::fclose(f) == 0 && complete);
  return path;
}

// Two files in one input: the first up to the separator, the second after it. The separator is
// not JSON (a line "--8<--"), so a seed of two real files keeps both valid. Without a separator
// both halves are the whole input.
inline constexpr std::string_view kPairSeparator = "\n--8<--\n";

struct Pair {
  std::string_view first, second;
  bool same = true;  // no separator: one file, given twice
};

[[nodiscard]] inline Pair split_pair(std::string_view input) {
  const auto at = input.find(kPairSeparator);
  if (at == std::string_view::npos) return {input, input, true};
  return {input.substr(0, at), input.substr(at + kPairSeparator.size()), false};
}

}  // namespace edgeroof::fuzz
