// The knobs of a power mode as the mode-space model and the planner walk them.
#pragma once

#include "edgeroof/reports/modespace.hpp"

#include <optional>
#include <vector>

namespace edgeroof::reports::detail {

struct KnobDef {
  const char* name;  // as in messages and "extrapolated": cpu_online, cpu_khz, gpu_hz, emc_hz, tpc_pg_mask
  std::optional<double> (*get)(const ModeKnobs&);
};

[[nodiscard]] const std::vector<KnobDef>& knob_defs();

}  // namespace edgeroof::reports::detail
