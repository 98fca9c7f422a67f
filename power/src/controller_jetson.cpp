#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/machine.hpp"

#include <algorithm>
#include <regex>

namespace edgeroof::power {
namespace {

// The first of the nodes that exists under root.
std::optional<std::string> first_existing(const Root& root, std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    if (root.exists(p)) return std::string(p);
  }
  return std::nullopt;
}

std::string parent_of(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

}  // namespace

JetsonController::JetsonController(ModeIo io, std::optional<NvpmodelConf> conf)
    : m_io(std::move(io)), m_conf(std::move(conf)), m_cpu(m_io) {
  m_tables = read_frequency_tables(m_io.root);
  m_gpu = find_gpu_devfreq(m_io.root);
  if (!m_gpu && m_conf) {
    if (const auto max = m_conf->node(m_io.root, "GPU", "MAX_FREQ")) m_gpu = parent_of(*max);
  }
  if (m_conf) {
    m_emc_cap = m_conf->node(m_io.root, "EMC", "MAX_FREQ");
    m_tpc_mask = m_conf->node(m_io.root, "TPC_POWER_GATING", "TPC_PG_MASK");
  }
  if (!m_emc_cap)
    m_emc_cap =
        first_existing(m_io.root, {"/sys/kernel/nvpmodel_clk_cap/emc", "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap"});
  if (!m_tpc_mask) m_tpc_mask = first_existing(m_io.root, {"/sys/devices/gpu.0/tpc_pg_mask"});
  m_emc_rate = first_existing(m_io.root, {"/sys/kernel/debug/bpmp/debug/clk/emc/rate"});
}

void JetsonController::save() {
  m_cpu.save();
  if (m_gpu) {
    m_saved_gpu_min = m_io.root.try_read_int(*m_gpu + "/min_freq");
    m_saved_gpu_max = m_io.root.try_read_int(*m_gpu + "/max_freq");
  }
  if (m_emc_cap) m_saved_emc_cap = m_io.root.try_read_int(*m_emc_cap);
  if (m_tpc_mask) m_saved_tpc_mask = m_io.root.try_read_int(*m_tpc_mask);
  // "pmode:0002 fmode:quiet": the mode nvpmodel last set, so that restore can set it again.
  m_saved_id.reset();
  if (const auto status = m_io.root.try_read("/var/lib/nvpmodel/status")) {
    static const std::regex pmode(R"(pmode:(\d+))");
    std::smatch m;
    if (std::regex_search(*status, m, pmode)) m_saved_id = std::stoi(m[1].str());
  }
  m_saved = true;
}

void JetsonController::apply(const PowerMode& mode) {
  if (mode.id) {
    if (!m_conf || m_conf->find_mode(*mode.id) == nullptr) {
      throw ModeError(mode.key + ": nvpmodel.conf has no POWER_MODEL ID=" + std::to_string(*mode.id));
    }
    m_ran_nvpmodel = true;  // before running: a failure half-way still needs the restore
    m_io.do_run({"nvpmodel", "-m", std::to_string(*mode.id)});
    return;
  }
  m_cpu.apply_cpu(mode);
  if (mode.gpu_min_hz || mode.gpu_max_hz) {
    if (!m_gpu) throw ModeError(mode.key + ": no GPU devfreq node found");
    const auto cur_min = m_io.root.try_read_int(*m_gpu + "/min_freq");
    const auto cur_max = m_io.root.try_read_int(*m_gpu + "/max_freq");
    if (!cur_min || !cur_max) throw ModeError(mode.key + ": GPU devfreq limits unreadable under " + *m_gpu);
    const auto max_hz = mode.gpu_max_hz.value_or(std::max(*cur_max, *mode.gpu_min_hz));
    const auto min_hz = mode.gpu_min_hz.value_or(std::min(*cur_min, max_hz));
    write_min_max(m_io, *m_gpu + "/min_freq", *m_gpu + "/max_freq", min_hz, max_hz);
  }
  if (mode.tpc_pg_mask) {
    if (m_tpc_mask) {
      if (m_io.root.try_read_int(*m_tpc_mask) != mode.tpc_pg_mask)
        m_io.do_write(*m_tpc_mask, std::to_string(*mode.tpc_pg_mask));
    } else if (*mode.tpc_pg_mask != 0) {
      throw ModeError(mode.key + ": no TPC power-gating node found");
    }
  }
  if (mode.emc_max_hz) {
    if (!m_emc_cap) throw ModeError(mode.key + ": no EMC cap node found");
    m_io.do_write(*m_emc_cap, std::to_string(*mode.emc_max_hz));
  }
}

std::vector<std::string> JetsonController::verify(const PowerMode& mode) const {
  std::vector<std::string> diffs;
  m_cpu.verify_cpu(mode, diffs);
  if (mode.gpu_max_hz && m_gpu) {
    std::string why;
    const auto cur = detail::read_clock(m_io.root, *m_gpu + "/cur_freq", 1, why);
    if (!cur) {
      diffs.push_back("GPU: " + why);
    } else if (mode.gpu_pinned() ? *cur != *mode.gpu_max_hz : *cur > *mode.gpu_max_hz) {
      diffs.push_back("GPU runs at " + std::to_string(*cur) + " Hz, the mode wants " +
                      (mode.gpu_pinned() ? "" : "at most ") + std::to_string(*mode.gpu_max_hz));
    }
  }
  if (mode.tpc_pg_mask && m_tpc_mask) {
    const auto mask = m_io.root.try_read_int(*m_tpc_mask);
    if (mask != mode.tpc_pg_mask) {
      diffs.push_back("TPC mask reads " + (mask ? std::to_string(*mask) : std::string("nothing")) +
                      ", the mode wants " + std::to_string(*mode.tpc_pg_mask));
    }
  }
  if (mode.emc_max_hz) {
    // nvpmodel writes the conf's raw cap (0 = none), so only custom modes can read their cap back.
    if (!mode.id && m_emc_cap) {
      const auto cap = m_io.root.try_read_int(*m_emc_cap);
      if (cap != mode.emc_max_hz)
        diffs.push_back("EMC cap reads " + (cap ? std::to_string(*cap) : std::string("nothing")) +
                        " Hz, the mode wants " + std::to_string(*mode.emc_max_hz));
    }
    if (const auto rate = emc_rate(diffs); rate && *rate > *mode.emc_max_hz) {
      diffs.push_back("EMC runs at " + std::to_string(*rate) + " Hz, above the cap " +
                      std::to_string(*mode.emc_max_hz));
    }
  }
  return diffs;
}

void JetsonController::restore() {
  if (!m_saved) return;
  std::vector<std::string> failures;
  const auto attempt = [&failures](const auto& action) { detail::attempt(failures, action); };
  // nvpmodel first: it resets every limit of its mode, then the exact values found are written back
  // (they differ from the mode's when someone ran jetson_clocks or wrote limits by hand).
  if (m_ran_nvpmodel && m_saved_id) {
    attempt([&] { m_io.do_run({"nvpmodel", "-m", std::to_string(*m_saved_id)}); });
  }
  m_cpu.restore_cpu(failures);
  if (m_gpu && m_saved_gpu_min && m_saved_gpu_max) {
    const std::string min_path = *m_gpu + "/min_freq", max_path = *m_gpu + "/max_freq";
    if (m_io.root.try_read_int(min_path) != m_saved_gpu_min || m_io.root.try_read_int(max_path) != m_saved_gpu_max) {
      attempt([&] { write_min_max(m_io, min_path, max_path, *m_saved_gpu_min, *m_saved_gpu_max); });
    }
  }
  if (m_tpc_mask && m_saved_tpc_mask && m_io.root.try_read_int(*m_tpc_mask) != m_saved_tpc_mask) {
    attempt([&] { m_io.do_write(*m_tpc_mask, std::to_string(*m_saved_tpc_mask)); });
  }
  if (m_emc_cap && m_saved_emc_cap && m_io.root.try_read_int(*m_emc_cap) != m_saved_emc_cap) {
    attempt([&] { m_io.do_write(*m_emc_cap, std::to_string(*m_saved_emc_cap)); });
  }
  m_ran_nvpmodel = false;
  if (m_io.dry_run == nullptr) {
    await_restored(failures, [this] {
      std::vector<std::string> diffs;
      check_restored(diffs);
      return diffs;
    });
  }
  detail::throw_restore_failures(failures);
}

void JetsonController::check_restored(std::vector<std::string>& diffs) const {
  m_cpu.check_restored_cpu(diffs);
  if (m_gpu && m_saved_gpu_min && m_saved_gpu_max) {
    std::string why;
    if (const auto cur = detail::read_clock(m_io.root, *m_gpu + "/cur_freq", 1, why)) {
      detail::check_within(diffs, "GPU", *cur, "Hz", *m_saved_gpu_min, *m_saved_gpu_max);
    } else {
      diffs.push_back("GPU: " + why);
    }
  }
  // A cap of 0 is none.
  if (m_saved_emc_cap && *m_saved_emc_cap > 0) {
    if (const auto rate = emc_rate(diffs)) detail::check_within(diffs, "EMC", *rate, "Hz", 0, *m_saved_emc_cap);
  }
}

std::optional<std::int64_t> JetsonController::emc_rate(std::vector<std::string>& diffs) const {
  if (!m_emc_rate) return std::nullopt;
  // debugfs is root's: where it cannot be read at all, the cap read back is all there is to check.
  std::string why;
  try {
    const auto rate = detail::read_clock(m_io.root, *m_emc_rate, 1, why);
    if (!rate) diffs.push_back("EMC: " + why);
    return rate;
  } catch (const SysfsError&) {
    return std::nullopt;
  }
}

PowerMode JetsonController::current() const {
  PowerMode m = m_cpu.current();
  if (m_gpu) {
    m.gpu_min_hz = m_io.root.try_read_int(*m_gpu + "/min_freq");
    m.gpu_max_hz = m_io.root.try_read_int(*m_gpu + "/max_freq");
  }
  if (m_emc_cap) {
    // A cap of 0 means none: the EMC may run at its table maximum.
    const auto cap = m_io.root.try_read_int(*m_emc_cap);
    if (cap && *cap > 0) m.emc_max_hz = cap;
    if (cap && *cap == 0 && !m_tables.emc_hz.empty()) m.emc_max_hz = m_tables.emc_hz.back();
  }
  if (m_tpc_mask) m.tpc_pg_mask = m_io.root.try_read_int(*m_tpc_mask);
  return m;
}

}  // namespace edgeroof::power
