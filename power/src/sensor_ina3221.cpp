// INA3221 rails through the hwmon driver: power from power<N>_input (uW) where the kernel has it,
// else bus voltage (mV) x current (mA). The chip refreshes its registers every update_interval ms,
// so the sampler reads at that period and integrates with the trapezoid rule.
#include "edgeroof/power/sensor_ina3221.hpp"

#include "edgeroof/power/sensor_sampler.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <set>
#include <utility>

namespace edgeroof::power {
namespace detail {

namespace {

std::string device_of(const Root& root, const std::string& hwmon_path) {
  // .../1-0040/hwmon/hwmon3: the bus address is two levels up once links are followed.
  std::error_code ec;
  const auto real = std::filesystem::weakly_canonical(root.resolve(hwmon_path), ec);
  if (!ec) {
    const auto parent = real.parent_path();
    if (parent.filename() == "hwmon") return parent.parent_path().filename().string();
  }
  return std::filesystem::path(hwmon_path).filename().string();
}

bool is_hwmon_name(const std::string& name) { return name.rfind("hwmon", 0) == 0; }

}  // namespace

std::optional<std::string> parse_hwmon_label(std::string_view text) {
  std::string label;
  for (char c : text) {
    if (c == '\n' || c == '\0') break;
    // Counter keys are built from labels (energy_J.<label>): keep them to safe characters.
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    label += safe ? c : '_';
  }
  while (!label.empty() && label.back() == '_') label.pop_back();
  while (!label.empty() && label.front() == '_') label.erase(label.begin());
  if (label.empty() || label == "NC" || label == "nc") return std::nullopt;
  return label;
}

std::vector<HwmonDevice> find_ina3221_devices(const Root& root) {
  std::vector<HwmonDevice> devices;
  std::set<std::string> seen;
  auto add = [&](const std::string& path, std::string device, bool iio) {
    std::error_code ec;
    const auto real = std::filesystem::weakly_canonical(root.resolve(path), ec).string();
    if (!seen.insert(ec ? path : real).second) return;
    devices.push_back({path, std::move(device), iio});
  };
  const std::string driver = "/sys/bus/i2c/drivers/ina3221";
  for (const auto& dev : root.list(driver)) {
    for (const auto& h : root.list(driver + "/" + dev + "/hwmon")) {
      if (is_hwmon_name(h)) add(driver + "/" + dev + "/hwmon/" + h, dev, false);
    }
  }
  const std::string iio_driver = "/sys/bus/i2c/drivers/ina3221x";
  for (const auto& dev : root.list(iio_driver)) {
    for (const auto& d : root.list(iio_driver + "/" + dev)) {
      if (d.rfind("iio:device", 0) == 0) add(iio_driver + "/" + dev + "/" + d, dev, true);
    }
  }
  for (const auto& h : root.list("/sys/class/hwmon")) {
    const std::string path = "/sys/class/hwmon/" + h;
    if (root.try_read(path + "/name").value_or("") == "ina3221") add(path, device_of(root, path), false);
  }
  std::stable_sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.device < b.device; });
  return devices;
}

namespace {

// Attribute names of channel n: hwmon (in<n>_label, power<n>_input in uW ...) or L4T 32's IIO
// driver (rail_name_<n>, in_power<n>_input in mW ...).
struct ChannelFiles {
  std::string label, enable, power, voltage, current;
  const char* power_unit;
  double power_scale_W;
};

ChannelFiles channel_files(bool iio, int n) {
  const std::string i = std::to_string(n);
  if (iio)
    return {"rail_name_" + i,
            "",
            "in_power" + i + "_input",
            "in_voltage" + i + "_input",
            "in_current" + i + "_input",
            "mW",
            1e-3};
  return {"in" + i + "_label",
          "in" + i + "_enable",
          "power" + i + "_input",
          "in" + i + "_input",
          "curr" + i + "_input",
          "uW",
          1e-6};
}

}  // namespace

std::vector<Ina3221Channel> ina3221_channels(const Root& root, const HwmonDevice& device) {
  std::vector<Ina3221Channel> channels;
  // hwmon numbers channels 1 to 3, the IIO driver 0 to 2.
  const int first = device.iio ? 0 : 1;
  for (int n = first; n < first + 3; ++n) {
    const ChannelFiles files = channel_files(device.iio, n);
    const std::string base = device.path + "/";
    const auto label_text = root.try_read(base + files.label);
    const auto label = label_text ? parse_hwmon_label(*label_text) : std::nullopt;
    if (!label) continue;
    if (const auto enable = files.enable.empty() ? std::nullopt : root.try_read(base + files.enable)) {
      if (parse_int64(*enable) == 0) continue;
    }
    Ina3221Channel c;
    c.rail.name = *label;
    if (root.exists(base + files.power)) {
      c.power_path = base + files.power;
      c.power_scale_W = files.power_scale_W;
      c.rail.unit = files.power_unit;
    } else {
      c.voltage_path = base + files.voltage;
      c.current_path = base + files.current;
      c.rail.unit = "mV*mA";
    }
    channels.push_back(std::move(c));
  }
  return channels;
}

void classify_rails(std::vector<Rail>& rails) {
  // Board inputs as L4T names them: Orin NX/Nano and Xavier (VDD_IN), Nano/TX1/TX2 (POM_5V_IN).
  static const char* const totals[] = {"VDD_IN", "POM_5V_IN"};
  // Sub-rails measured behind another measured rail (jetson-orin.md).
  static const std::pair<const char*, const char*> nested[] = {{"VDDQ_VDD2_1V8AO", "VIN_SYS_5V0"}};

  const Rail* total = nullptr;
  for (auto& r : rails) {
    r.board_total = std::find(std::begin(totals), std::end(totals), r.name) != std::end(totals) && total == nullptr;
    r.inside.clear();
    if (r.board_total) total = &r;
  }
  for (auto& r : rails) {
    if (total != nullptr) {
      if (&r != total) r.inside = total->name;
      continue;
    }
    for (const auto& [child, parent] : nested) {
      if (r.name != child) continue;
      const bool parent_measured =
          std::any_of(rails.begin(), rails.end(), [p = parent](const Rail& o) { return o.name == p; });
      if (parent_measured) r.inside = parent;
    }
  }
}

}  // namespace detail

namespace {

// Where update_interval is absent and no change can be watched, sample this often: fast enough
// for every INA3221 configuration L4T uses, and cheap.
constexpr double fallback_sample_period_s = 0.005;

// L4T configures a few milliseconds. The chip's slowest setting (1024 averages of the longest
// conversions on three channels) is about 50 s, at which no window could span 20 updates; a value
// beyond 10 s is distrusted and the period measured instead.
constexpr std::int64_t max_update_interval_ms = 10000;

// The bus-voltage register holds at most 32.76 V (12 bits of 8 mV): more is not a reading.
constexpr double max_bus_mV = 32760.0;

class Ina3221Sensor final : public EnergySensor {
public:
  Ina3221Sensor(const Root& root, const SensorOptions& options) : EnergySensor("ina3221"), m_root(root) {
    const auto devices = detail::find_ina3221_devices(root);
    if (devices.empty()) {
      set_unavailable("no INA3221 hwmon device under " + root.resolve("/sys/bus/i2c/drivers/ina3221").string() +
                      " or " + root.resolve("/sys/class/hwmon").string());
      return;
    }
    std::set<std::string> names;
    for (const auto& device : devices) {
      for (auto& c : detail::ina3221_channels(root, device)) {
        // Two devices may reuse a label: the bus address keeps counter keys apart.
        if (!names.insert(c.rail.name).second) c.rail.name += "@" + device.device;
        names.insert(c.rail.name);
        m_channels.push_back(std::move(c));
      }
    }
    if (m_channels.empty()) {
      set_unavailable("INA3221 found (" + devices.front().path + ") but no labelled channel that is connected");
      return;
    }
    std::vector<Rail> rails;
    for (const auto& c : m_channels) rails.push_back(c.rail);
    detail::classify_rails(rails);
    set_rails(rails);
    m_reported.assign(m_channels.size(), false);

    // Every file is read once now, so a missing or unreadable one makes the sensor unavailable
    // with its name instead of failing in the middle of a benchmark.
    std::vector<double> power_W(m_channels.size());
    try {
      open_files();
      read(power_W);
    } catch (const std::exception& e) {
      set_unavailable(e.what());
      return;
    }
    for (auto& warning : m_pending) add_warning(std::move(warning));
    m_pending.clear();
    if (const auto interval_s = update_interval_s(devices)) {
      set_period(interval_s, "update_interval");
    } else {
      const auto& c = m_channels.front();
      const std::string probe = c.power_path.empty() ? c.current_path : c.power_path;
      set_period(
          detail::measure_update_period_s([&] { return static_cast<double>(m_root.try_read_int(probe).value_or(0)); },
                                          options.clock, options.period_probe_s),
          "measured");
    }
    m_window.emplace(
        m_channels.size(), [this](std::vector<double>& p) { read(p); },
        update_period_s().value_or(fallback_sample_period_s), options.clock);
  }

private:
  // The slowest device's update_interval; nullopt where one is missing or out of range (then the
  // period is measured: a number from a file never becomes a window of hours).
  std::optional<double> update_interval_s(const std::vector<detail::HwmonDevice>& devices) {
    std::optional<double> interval_s;
    bool doubtful = false;
    for (const auto& device : devices) {
      const std::string node = device.path + "/update_interval";
      const auto text = m_root.try_read(node);
      if (!text) continue;
      const auto ms = parse_int64(*text);
      if (ms && *ms > 0 && *ms <= max_update_interval_ms) {
        interval_s = std::max(interval_s.value_or(0.0), static_cast<double>(*ms) * 1e-3);
      } else {
        doubtful = true;
        add_warning(m_root.resolve(node).string() + " reads " + quoted_value(*text) +
                    ", not a period in milliseconds within (0, 10 s]: the update period is measured instead");
      }
    }
    if (doubtful) return std::nullopt;
    return interval_s;
  }

  void open_files() {
    for (const auto& c : m_channels) {
      if (!c.power_path.empty()) {
        m_files.emplace_back(m_root, c.power_path);
      } else {
        m_files.emplace_back(m_root, c.voltage_path);
        m_files.emplace_back(m_root, c.current_path);
      }
    }
  }

  // One reading per channel in watts; NaN for a channel whose node gave no possible value. Throws
  // SensorError when a node cannot be read at all (it vanished, the device went away).
  void read(std::vector<double>& power_W) {
    std::size_t f = 0;
    for (std::size_t i = 0; i < m_channels.size(); ++i) {
      const auto& c = m_channels[i];
      if (!c.power_path.empty()) {
        power_W[i] = value(i, m_files[f++], max_rail_power_W / c.power_scale_W) * c.power_scale_W;
        continue;
      }
      const double mV = value(i, m_files[f++], max_bus_mV);
      OpenNode& current = m_files[f++];
      const double mA = value(i, current, std::numeric_limits<double>::infinity());
      power_W[i] = mV * mA * 1e-6;
      if (power_W[i] > max_rail_power_W) power_W[i] = refuse(i, current, "gives more than 10 kW with its bus voltage");
    }
  }

  // The node's value when it is a number in [0, max]; else NaN, said once per rail (no text is
  // made for a rail already reported, so a rail stuck on garbage costs the tick no allocation).
  double value(std::size_t channel, OpenNode& node, double max) {
    std::int64_t raw = 0;
    const auto status = node.read_int(raw);
    if (status == OpenNode::Status::unreadable) throw SensorError(node.describe_error());
    const bool bad = status != OpenNode::Status::ok || raw < 0 || static_cast<double>(raw) > max;
    if (!bad) return static_cast<double>(raw);
    if (m_reported[channel]) return std::numeric_limits<double>::quiet_NaN();
    if (status != OpenNode::Status::ok) return refuse(channel, node, "reads " + quoted_value(node.last_text()));
    return refuse(channel, node,
                  "reads " + std::to_string(raw) + (raw < 0 ? ", a negative value" : ", beyond any INA3221"));
  }

  double refuse(std::size_t channel, const OpenNode& node, const std::string& what) {
    if (!m_reported[channel]) {
      m_reported[channel] = true;
      m_pending.push_back(m_channels[channel].rail.name + ": " + node.path() + " " + what +
                          ": its energy is not reported for windows with such readings");
    }
    return std::numeric_limits<double>::quiet_NaN();
  }

  void do_start() override { m_window->start(); }
  WindowEnergy do_stop() override {
    WindowEnergy w = m_window->stop();
    // The sampler thread is parked now: the readings' complaints are ours to hand over.
    w.warnings = std::move(m_pending);
    m_pending.clear();
    return w;
  }

  Root m_root;
  std::vector<detail::Ina3221Channel> m_channels;
  std::vector<OpenNode> m_files;  // in the order read() takes them
  std::vector<bool> m_reported;   // per channel: its garbage has been said
  std::vector<std::string> m_pending;
  std::optional<detail::PowerWindow> m_window;
};

}  // namespace

std::unique_ptr<EnergySensor> make_ina3221_sensor(const Root& root, const SensorOptions& options) {
  return std::make_unique<Ina3221Sensor>(root, options);
}

}  // namespace edgeroof::power
