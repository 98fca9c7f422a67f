// Which modes a sweep runs (`--modes SPEC`), and a mode as `edgeroof modes --format json` lists it.
#pragma once

#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace edgeroof::power {

// The modes of --modes SPEC: `nvpmodel:all`, `nvpmodel:ID,ID`, `grid:SPEC`; `current` gives an
// empty list (the caller runs the mode found). Throws ModeError, also for a conf without modes, an
// id outside 0..INT_MAX or given twice, and a grid of more than max_grid_modes.
[[nodiscard]] std::vector<PowerMode> select_modes(const std::string& spec, const FrequencyTables& tables,
                                                  const std::optional<NvpmodelConf>& conf);

// The mode as `modes --format json` lists it; unknown fields are absent.
[[nodiscard]] nlohmann::json mode_to_json(const PowerMode& mode);

}  // namespace edgeroof::power
