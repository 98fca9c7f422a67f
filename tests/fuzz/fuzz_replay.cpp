// Plain driver for a fuzz body where libFuzzer is not available (GCC builds): every file of the
// corpus directories given, whole, cut short and with bytes flipped, so the readers still meet
// malformed input in every CI run:
//   fuzz_replay_<target> [--positions=N] CORPUS...
// Each file is cut and flipped at N evenly spread places (default 64; every byte of a file of at
// most N bytes), so a corpus of real results files replays in seconds. Exit status 0 unless the
// body aborts, 2 for bad arguments.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// What runs now, for the line printed when the body aborts or crashes: the file and how it was
// changed.
char g_current[512] = "";

void on_fatal(int signal) {
  const char prefix[] = "fuzz_replay: died on ";
  (void)!::write(2, prefix, sizeof(prefix) - 1);
  (void)!::write(2, g_current, std::strlen(g_current));
  (void)!::write(2, "\n", 1);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void run(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::size_t replay(const std::string& path, const std::string& bytes, std::size_t positions) {
  std::size_t inputs = 1;
  std::snprintf(g_current, sizeof(g_current), "%s (whole)", path.c_str());
  run(bytes);
  const std::size_t step = std::max<std::size_t>(1, bytes.size() / positions);
  for (std::size_t n = 0; n < bytes.size(); n += step, ++inputs) {
    std::snprintf(g_current, sizeof(g_current), "%s cut to %zu bytes", path.c_str(), n);
    run(bytes.substr(0, n));
  }
  for (std::size_t k = 0; k < bytes.size(); k += step) {
    for (char flip : {'\0', '\n', ' ', '/', '%', '@', '-', '9', '"', '}', '\xff'}) {
      std::string m = bytes;
      m[k] = flip;
      std::snprintf(g_current, sizeof(g_current), "%s with byte %zu set to 0x%02x", path.c_str(), k,
                    static_cast<unsigned char>(flip));
      run(m);
      ++inputs;
    }
  }
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  for (int fatal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(fatal, on_fatal);
  std::size_t files = 0, inputs = 0, positions = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--positions=", 0) == 0) {
      positions = std::strtoul(arg.c_str() + 12, nullptr, 10);
      if (positions == 0 || positions > 1000000) {
        std::fprintf(stderr, "fuzz_replay: --positions wants 1 to 1000000, not '%s'\n", arg.c_str() + 12);
        return 2;
      }
      continue;
    }
    std::vector<fs::path> paths;
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i])) {
        if (e.is_regular_file()) paths.push_back(e.path());
      }
      std::sort(paths.begin(), paths.end());
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
      inputs += replay(p.string(), bytes, positions);
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "fuzz_replay: no corpus files given\n");
    return 2;
  }
  std::printf("fuzz_replay: %zu files, %zu inputs, no failure\n", files, inputs);
  return 0;
}
