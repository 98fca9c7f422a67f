// edgeroof-bench's start-up CPU check: which compiled-for extensions a CPU lacks, the error that
// names them, and, on this machine, that every extension the kernels were built for is present by
// cpu_has and by the kernel's own account in /proc/cpuinfo.
#include "cpu_check.hpp"
#include "edgeroof/kernels/cpu.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

using edgeroof::bench::cpu_has;
using edgeroof::bench::cpu_mismatch_error;
using edgeroof::bench::missing_cpu_features;

TEST(CpuCheck, MissingInCompiledOrder) {
  const char* const compiled[] = {"avx", "avx2", "fma", "avx512f", "avx512bw", nullptr};
  // A CPU of the AVX2 generation: no AVX-512.
  const auto avx2_cpu = [](std::string_view f) { return f.substr(0, 6) != "avx512"; };
  EXPECT_EQ(missing_cpu_features(compiled, avx2_cpu), (std::vector<std::string>{"avx512f", "avx512bw"}));
  EXPECT_TRUE(missing_cpu_features(compiled, [](std::string_view) { return true; }).empty());
  const char* const none[] = {nullptr};
  EXPECT_TRUE(missing_cpu_features(none, [](std::string_view) { return false; }).empty());
}

TEST(CpuCheck, ErrorNamesWhatIsMissingAndTheFix) {
  EXPECT_FALSE(cpu_mismatch_error({}).has_value());
  EXPECT_EQ(cpu_mismatch_error({"avx512f", "avx512bw"}).value(),
            "the CPU kernels were compiled for avx512f, avx512bw (EDGEROOF_CPU_ARCH of the build), which this CPU "
            "lacks; build edgeroof on this machine, or a package with -DEDGEROOF_CPU_ARCH set to the oldest CPU it "
            "must run on");
}

TEST(CpuCheck, UnknownNamesCountAsPresent) { EXPECT_TRUE(cpu_has("no-such-extension")); }

// The tests run where they were built: everything compiled for is here. /proc/cpuinfo is the
// kernel's own list, an independent account of the same CPUID or HWCAP bits.
TEST(CpuCheck, ThisMachineHasWhatItWasBuiltFor) {
  const auto missing = missing_cpu_features(edgeroof::kernels::cpu::compiled_cpu_features, cpu_has);
  EXPECT_TRUE(missing.empty()) << cpu_mismatch_error(missing).value_or("");
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (!cpuinfo) GTEST_SKIP() << "no /proc/cpuinfo to compare with";
  std::set<std::string> flags;
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  int compared = 0;
  for (const char* const* f = edgeroof::kernels::cpu::compiled_cpu_features; *f != nullptr; ++f) {
    std::string name = *f;
    if (name == "avx512vnni") name = "avx512_vnni";  // /proc/cpuinfo's spelling
    EXPECT_TRUE(flags.count(name) == 1) << name << " compiled for but not in /proc/cpuinfo";
    EXPECT_TRUE(cpu_has(*f)) << *f;
    ++compared;
  }
  RecordProperty("compared", compared);
}

}  // namespace
