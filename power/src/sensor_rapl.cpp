// RAPL energy counters through powercap: /sys/class/powercap/intel-rapl:<p>[:<s>]/energy_uj, a
// cumulative microjoule counter that wraps at max_energy_range_uj. The counters are read at the
// window's edges and polled in between, so one wrap per poll is always seen.
#include "edgeroof/power/sensor_ina3221.hpp"
#include "edgeroof/power/sensor_sampler.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace edgeroof::power {

namespace {

// Between two polls a counter may wrap at most once: at 1 kW a 2^32 uJ range still lasts 4 s.
constexpr double poll_period_s = 0.25;

struct Zone {
  std::string path;  // machine path of the zone directory
  std::string id;    // "0" or "0:2"
  std::string name;  // powercap's name file: package-0, core, uncore, dram, psys
};

// "intel-rapl:0:2" -> "0:2"; powercap also holds zones of other drivers, which are ignored.
std::optional<std::string> rapl_id(const std::string& entry) {
  const std::string prefix = "intel-rapl:";
  if (entry.rfind(prefix, 0) != 0 || entry.size() == prefix.size()) return std::nullopt;
  return entry.substr(prefix.size());
}

class RaplSensor final : public EnergySensor {
public:
  RaplSensor(const Root& root, const SensorOptions& options) : EnergySensor("rapl"), m_root(root) {
    const std::string base = "/sys/class/powercap";
    std::vector<Zone> zones;
    for (const auto& entry : root.list(base)) {
      const auto id = rapl_id(entry);
      if (!id) continue;
      const std::string path = base + "/" + entry;
      const auto name = root.try_read(path + "/name");
      if (!name || name->empty()) continue;
      zones.push_back({path, *id, *name});
    }
    if (zones.empty()) {
      set_unavailable("no RAPL zone (intel-rapl:*) under " + root.resolve(base).string());
      return;
    }
    const auto packages =
        std::count_if(zones.begin(), zones.end(), [](const Zone& z) { return z.id.find(':') == std::string::npos; });
    const bool have_psys = std::any_of(zones.begin(), zones.end(), [](const Zone& z) { return z.name == "psys"; });

    std::vector<Rail> rails;
    for (const auto& z : zones) {
      Rail rail;
      rail.unit = "uJ";
      const auto colon = z.id.find(':');
      const std::string package = z.id.substr(0, colon);
      rail.name = z.name;
      if (colon != std::string::npos && packages > 1) rail.name += "-" + package;
      if (z.name == "psys") {
        rail.board_total = true;
      } else if (have_psys) {
        rail.inside = "psys";
      } else if (colon != std::string::npos && z.name != "dram") {
        // core and uncore (pp0/pp1) are parts of their package; dram is metered beside it.
        const auto parent = std::find_if(zones.begin(), zones.end(), [&](const Zone& p) { return p.id == package; });
        if (parent != zones.end()) rail.inside = parent->name;
      }
      rails.push_back(rail);
      m_energy_paths.push_back(z.path + "/energy_uj");
      // Without a range a backwards step cannot be explained; the accumulator then reports it.
      m_ranges.push_back(static_cast<std::uint64_t>(
          std::max<std::int64_t>(0, root.try_read_int(z.path + "/max_energy_range_uj").value_or(0))));
    }
    set_rails(std::move(rails));

    std::vector<std::uint64_t> raw(m_energy_paths.size());
    try {
      read(raw);
    } catch (const std::exception& e) {
      // Since Linux 5.10 energy_uj is root-only (a side channel): say so rather than just EACCES.
      set_unavailable(std::string(e.what()) + " (energy_uj is readable by root only on Linux >= 5.10)");
      return;
    }
    const std::string probe = m_energy_paths.front();
    set_period(
        detail::measure_update_period_s([&] { return static_cast<double>(m_root.try_read_int(probe).value_or(0)); },
                                        options.clock, options.period_probe_s),
        "measured");
    m_window.emplace(
        m_ranges, 1e-6, [this](std::vector<std::uint64_t>& r) { read(r); }, poll_period_s, options.clock);
  }

private:
  void read(std::vector<std::uint64_t>& raw) const {
    for (std::size_t i = 0; i < m_energy_paths.size(); ++i) {
      const std::string text = m_root.read(m_energy_paths[i]);
      const auto value = parse_int64(text);
      if (!value || *value < 0)
        throw SensorError("not an energy count in " + m_root.resolve(m_energy_paths[i]).string() + ": '" + text + "'");
      raw[i] = static_cast<std::uint64_t>(*value);
    }
  }

  void do_start() override { m_window->start(); }
  WindowEnergy do_stop() override { return m_window->stop(); }

  Root m_root;
  std::vector<std::string> m_energy_paths;
  std::vector<std::uint64_t> m_ranges;
  std::optional<detail::CounterWindow> m_window;
};

}  // namespace

std::unique_ptr<EnergySensor> make_rapl_sensor(const Root& root, const SensorOptions& options) {
  return std::make_unique<RaplSensor>(root, options);
}

}  // namespace edgeroof::power
