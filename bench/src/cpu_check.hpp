// edgeroof-bench's start-up check that this CPU has the instruction-set extensions its CPU kernels
// were compiled for (EDGEROOF_CPU_ARCH): a package built with -march=native on one machine and
// installed on an older one says so in one line instead of dying on an illegal instruction. Built
// without EDGEROOF_CPU_ARCH's flags (bench/ is), so the check itself runs on any CPU of the arch.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::bench {

// Of the nullptr-terminated `compiled` features, those `has` says this CPU lacks, in order.
[[nodiscard]] std::vector<std::string> missing_cpu_features(const char* const* compiled,
                                                            const std::function<bool(std::string_view)>& has);

// Whether this CPU has a feature of kernels::cpu::compiled_cpu_features: cpuid through
// __builtin_cpu_supports on x86, AT_HWCAP on aarch64 Linux. A name not known here counts as
// present, so only a known lack refuses to run.
[[nodiscard]] bool cpu_has(std::string_view feature);

// The error for kernels that need `missing` (empty: none), naming them and how to get a build that
// runs here.
[[nodiscard]] std::optional<std::string> cpu_mismatch_error(const std::vector<std::string>& missing);

}  // namespace edgeroof::bench
