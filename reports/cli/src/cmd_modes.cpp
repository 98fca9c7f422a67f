// `edgeroof modes`: the predefined nvpmodel modes, or the custom grid, with caps resolved.
#include "commands.hpp"
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/mode_select.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/results/keys.hpp"

#include <iostream>

namespace edgeroof::cli {
namespace {

std::string cell(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }

int run(const Args& args) {
  const power::Root root(args.get_or("--root", "/"));
  const auto tables = power::read_frequency_tables(root);
  std::vector<power::PowerMode> modes;
  std::optional<int> default_id;
  if (const auto spec = args.get("--grid")) {
    modes = power::enumerate_grid(power::parse_grid_spec(*spec), tables);
  } else {
    const auto conf = power::find_nvpmodel_conf(root, args.get("--nvpmodel-conf"));
    if (!conf)
      throw power::ModeError("no " + root.resolve("/etc/nvpmodel.conf").string() +
                             " (not a Jetson?): use --grid SPEC or --nvpmodel-conf FILE");
    default_id = conf->default_id;
    for (const auto& m : conf->modes) modes.push_back(power::to_power_mode(m, tables));
  }
  if (format_of(args) == Format::json) {
    nlohmann::json doc = {{"modes", nlohmann::json::array()}};
    for (const auto& m : modes) doc["modes"].push_back(power::mode_to_json(m));
    // The release the modes were read on (its paths and nvpmodel.conf differ); absent off a Jetson.
    if (const auto l4t = power::read_l4t_release(root)) doc[results::context::l4t_release] = *l4t;
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  Table t({"key", "name", "id", "cpus", "cpu max kHz", "gpu max Hz", "emc max Hz"});
  for (const auto& m : modes) {
    const std::string name = m.name + (m.id && m.id == default_id ? " (default)" : "");
    t.add({m.key, name, m.id ? std::to_string(*m.id) : "-", m.cpu_online ? std::to_string(*m.cpu_online) : "-",
           cell(m.cpu_max_khz), cell(m.gpu_max_hz), cell(m.emc_max_hz)});
  }
  std::cout << t.render(format_of(args));
  return 0;
}

}  // namespace

const Command& modes_command() {
  static const Command cmd{
      "modes",
      "list the power modes: predefined (nvpmodel.conf) or a custom grid of CPU/GPU/EMC frequencies",
      "edgeroof modes [--root DIR] [--nvpmodel-conf FILE] [--grid SPEC] [--format table|csv|json]",
      "Without --grid: the POWER_MODEL sections of DIR/etc/nvpmodel.conf. Caps are resolved against\n"
      "the frequency tables read under --root: -1 (and an EMC cap of 0) is the table maximum, a cap\n"
      "between entries the entry the driver picks under it. Unknown values are left out (JSON) or '-'.\n"
      "SPEC: cores=LIST|all;cpu=LIST|all;gpu=LIST|all;emc=LIST|all, LIST comma-separated, kHz for\n"
      "cpu, Hz for gpu and emc. An axis left out is all of its table, or left alone where there is\n"
      "no table (no GPU). Keys: nvp<ID>-<name> for predefined modes, c<cores>-cpu<kHz>-gpu<Hz>-emc<Hz>\n"
      "for grid modes. On an Orin AGX the full grid has 6 x 14 x 13 x 4 = 4,368 modes. Limits, checked\n"
      "before anything is allocated: at most 1,000,000 grid modes, 1,024 entries per frequency table,\n"
      "8,192 CPUs, 64 KiB per sysfs node and 1 MiB per nvpmodel.conf.",
      {{"--root", "DIR", "read sysfs and /etc under DIR instead of /"},
       {"--nvpmodel-conf", "FILE", "nvpmodel.conf to read (default DIR/etc/nvpmodel.conf)"},
       {"--grid", "SPEC", "list the custom grid instead of the predefined modes"},
       format_option},
      false,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
