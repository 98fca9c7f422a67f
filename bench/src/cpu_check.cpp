#include "cpu_check.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace edgeroof::bench {

std::vector<std::string> missing_cpu_features(const char* const* compiled,
                                              const std::function<bool(std::string_view)>& has) {
  std::vector<std::string> missing;
  for (const char* const* f = compiled; *f != nullptr; ++f) {
    if (!has(*f)) missing.emplace_back(*f);
  }
  return missing;
}

bool cpu_has(std::string_view f) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports takes a string literal only.
  if (f == "avx") return __builtin_cpu_supports("avx");
  if (f == "avx2") return __builtin_cpu_supports("avx2");
  if (f == "fma") return __builtin_cpu_supports("fma");
  if (f == "bmi2") return __builtin_cpu_supports("bmi2");
  if (f == "avx512f") return __builtin_cpu_supports("avx512f");
  if (f == "avx512cd") return __builtin_cpu_supports("avx512cd");
  if (f == "avx512vl") return __builtin_cpu_supports("avx512vl");
  if (f == "avx512bw") return __builtin_cpu_supports("avx512bw");
  if (f == "avx512dq") return __builtin_cpu_supports("avx512dq");
  if (f == "avx512vnni") return __builtin_cpu_supports("avx512vnni");
#elif defined(__aarch64__) && defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if (f == "asimdhp") return (hwcap & HWCAP_ASIMDHP) != 0;
  if (f == "asimddp") return (hwcap & HWCAP_ASIMDDP) != 0;
  if (f == "atomics") return (hwcap & HWCAP_ATOMICS) != 0;
  if (f == "sve") return (hwcap & HWCAP_SVE) != 0;
#endif
  (void)f;
  return true;
}

std::optional<std::string> cpu_mismatch_error(const std::vector<std::string>& missing) {
  if (missing.empty()) return std::nullopt;
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
  return "the CPU kernels were compiled for " + names +
         " (EDGEROOF_CPU_ARCH of the build), which this CPU lacks; build edgeroof on this machine, or a "
         "package with -DEDGEROOF_CPU_ARCH set to the oldest CPU it must run on";
}

}  // namespace edgeroof::bench
