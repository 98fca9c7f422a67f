// What plan and the adaptive sweep share: the results measured so far in a directory, fitted, and
// a plan as a table or as JSON.
#pragma once

#include "cli.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/plan.hpp"

#include <filesystem>
#include <string>

namespace edgeroof::cli {

// The rooflines of the results files in `dir` (as `edgeroof fit DIR` reads them); no modes when
// the directory does not exist or holds no results file yet.
[[nodiscard]] reports::Rooflines measured_in(const std::filesystem::path& dir);

// The plan in `format`: JSON (the contract keys, with "reasons" beside them) or a table of key and
// reason, with a line of counts.
[[nodiscard]] std::string render_plan(const reports::Plan& plan, Format format);

}  // namespace edgeroof::cli
