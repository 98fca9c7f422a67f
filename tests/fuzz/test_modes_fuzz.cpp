// Fuzz target of the nvpmodel.conf parser: any input either parses or throws ModeError, and every
// mode it parses resolves against the Orin tables; anything else (another exception, a sanitizer
// report, a crash) is a bug. Built with libFuzzer under Clang (EDGEROOF_LIBFUZZER); otherwise the
// plain driver below mutates the corpus from a fixed seed for a fixed time, so CTest can run it
// anywhere.
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

const edgeroof::power::FrequencyTables& orin_tables() {
  static const edgeroof::power::FrequencyTables t = [] {
    edgeroof::power::FrequencyTables x;
    x.cpu_count = 12;
    x.cpu_khz = {268800,  422400,  576000,  729600,  883200,  1036800, 1190400,
                 1344000, 1497600, 1651200, 1804800, 1958400, 2112000, 2201600};
    x.gpu_hz = {114750000, 216750000, 318750000,  420750000,  522750000,  624750000, 726750000,
                828750000, 930750000, 1032750000, 1134750000, 1236750000, 1300500000};
    x.emc_hz = {204000000, 665600000, 2133000000, 3199000000};
    return x;
  }();
  return t;
}

// 0 parsed, 1 rejected with ModeError.
int check_one(std::string_view text) {
  try {
    const auto conf = edgeroof::power::parse_nvpmodel_conf(text);
    for (const auto& m : conf.modes) {
      const auto mode = edgeroof::power::to_power_mode(m, orin_tables());
      // Resolved frequencies are always table entries.
      if (mode.gpu_max_hz && (*mode.gpu_max_hz < 114750000 || *mode.gpu_max_hz > 1300500000)) __builtin_trap();
      if (mode.cpu_online && (*mode.cpu_online < 0 || *mode.cpu_online > static_cast<int>(m.settings.size())))
        __builtin_trap();
    }
    return 0;
  } catch (const edgeroof::power::ModeError&) {
    return 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)check_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef EDGEROOF_LIBFUZZER
// usage: test_modes_fuzz CORPUS_DIR SECONDS
int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR SECONDS\n", argv[0]);
    return 2;
  }
  std::vector<std::string> corpus;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    corpus.push_back(s.str());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus in %s\n", argv[1]);
    return 2;
  }
  // Pieces of the format, so that mutations reach the parser's deeper states.
  const std::vector<std::string> tokens{"<",
                                        ">",
                                        "< PARAM TYPE=CLOCK NAME=GPU >",
                                        "<POWER_MODEL ID=",
                                        " NAME=",
                                        "< PM_CONFIG DEFAULT=",
                                        "ID=",
                                        "=",
                                        "-1",
                                        "0",
                                        "2147483648",
                                        "99999999999999999999999",
                                        "\n",
                                        "\r\n",
                                        "#",
                                        " ",
                                        "\t",
                                        "_KNEXT",
                                        "CPU_ONLINE CORE_",
                                        "GPU MAX_FREQ ",
                                        "CPU_A78_0 MIN_FREQ ",
                                        "EMC MAX_FREQ ",
                                        "\0"};
  std::mt19937_64 rng(20240607);
  const auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % (n == 0 ? 1 : n)); };
  const double seconds = std::stod(argv[2]);
  const auto start = std::chrono::steady_clock::now();
  long runs = 0, rejected = 0;
  for (const auto& c : corpus) rejected += check_one(c), ++runs;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    std::string input = corpus[pick(corpus.size())];
    const int edits = 1 + static_cast<int>(pick(8));
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = pick(input.size() + 1);
      switch (pick(5)) {
      case 0:
        if (!input.empty()) input[pick(input.size())] = static_cast<char>(rng());
        break;
      case 1:
        input.insert(at, tokens[pick(tokens.size())]);
        break;
      case 2:
        input.erase(at, pick(64));
        break;
      case 3:
        input.insert(at, input.substr(pick(input.size() + 1), pick(128)));
        break;
      default: {
        const auto& other = corpus[pick(corpus.size())];
        input = input.substr(0, at) + other.substr(pick(other.size() + 1));
      }
      }
    }
    rejected += check_one(input);
    ++runs;
  }
  std::printf("nvpmodel.conf parser: %ld inputs, %ld rejected with ModeError, %ld parsed, no crash\n", runs, rejected,
              runs - rejected);
  return 0;
}
#endif
