// Plain driver for the fuzz body where libFuzzer is not available (GCC builds): every file of the
// corpus directories given, whole, cut at every length, and with each byte flipped, so the parsers
// still meet malformed input in every CI run. Exit status 0 unless the body traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::size_t files = 0, inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<fs::path> paths;
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i])) {
        if (e.is_regular_file()) paths.push_back(e.path());
      }
    } else {
      paths.emplace_back(argv[i]);
    }
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "fuzz_replay: cannot read %s\n", p.c_str());
        return 2;
      }
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ++files;
      run(bytes);
      ++inputs;
      for (std::size_t n = 0; n < bytes.size(); ++n, ++inputs) run(bytes.substr(0, n));
      for (std::size_t k = 0; k < bytes.size() && k < 4096; ++k, ++inputs) {
        for (char flip : {'\0', '\n', ' ', '/', '%', '@', '-', '9', '\xff'}) {
          std::string m = bytes;
          m[k] = flip;
          run(m);
        }
      }
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "fuzz_replay: no corpus files given\n");
    return 2;
  }
  std::printf("fuzz_replay: %zu files, %zu inputs, no failure\n", files, inputs);
  return 0;
}
