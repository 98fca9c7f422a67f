// Every subcommand of `edgeroof`, one file each (cmd_<name>.cpp).
#pragma once

#include "cli.hpp"

namespace edgeroof::cli {

const Command& fit_command();
const Command& compare_command();
const Command& predict_command();
const Command& tune_command();
const Command& tegrastats_command();
const Command& plot_command();
const Command& model_command();
const Command& modes_command();
const Command& sweep_command();
const Command& plan_command();

}  // namespace edgeroof::cli
