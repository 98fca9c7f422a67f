// INA3221 rails through the hwmon driver: power from power<N>_input (uW) where the kernel has it,
// else bus voltage (mV) x current (mA). The chip refreshes its registers every update_interval ms,
// so the sampler reads at that period and integrates with the trapezoid rule.
#include "edgeroof/power/sensor_ina3221.hpp"

#include "edgeroof/power/sensor_sampler.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// An attribute kept open for the sampler: sysfs regenerates a value on every read at offset 0,
// and one pread costs a fraction of an open/read/close with its path lookup, which keeps the
// sampler well under 1% of a core at millisecond periods.
class OpenAttribute {
public:
  OpenAttribute(const Root& root, const std::string& machine_path) : m_path(root.resolve(machine_path).string()) {
    m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) throw SensorError("cannot read " + m_path + ": " + std::strerror(errno));
  }
  ~OpenAttribute() {
    if (m_fd >= 0) ::close(m_fd);
  }
  OpenAttribute(OpenAttribute&& other) noexcept : m_path(std::move(other.m_path)), m_fd(other.m_fd) { other.m_fd = -1; }
  OpenAttribute(const OpenAttribute&) = delete;
  OpenAttribute& operator=(const OpenAttribute&) = delete;
  OpenAttribute& operator=(OpenAttribute&&) = delete;

  [[nodiscard]] long long read_int() const {
    char buf[64];
    const ssize_t n = ::pread(m_fd, buf, sizeof(buf), 0);
    if (n < 0) throw SensorError("cannot read " + m_path + ": " + std::strerror(errno));
    // A device that goes away fails the read (ENODEV); a file unlinked under a fake tree does not,
    // so the link count says it.
    struct stat st {};
    if (::fstat(m_fd, &st) == 0 && st.st_nlink == 0) throw SensorError("cannot read " + m_path + ": the file vanished");
    const auto value = parse_int64(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!value) throw SensorError("not a number in " + m_path);
    return *value;
  }

private:
  std::string m_path;
  int m_fd = -1;
};

class Ina3221Sensor final : public EnergySensor {
public:
  Ina3221Sensor(const Root& root, const SensorOptions& options) : EnergySensor("ina3221"), m_root(root) {
    const auto devices = detail::find_ina3221_devices(root);
    if (devices.empty()) {
      set_unavailable("no INA3221 hwmon device under " + root.resolve("/sys/bus/i2c/drivers/ina3221").string() +
                      " or " + root.resolve("/sys/class/hwmon").string());
      return;
    }
    std::optional<double> interval_s;
    std::set<std::string> names;
    for (const auto& device : devices) {
      for (auto& c : detail::ina3221_channels(root, device)) {
        // Two devices may reuse a label: the bus address keeps counter keys apart.
        if (!names.insert(c.rail.name).second) c.rail.name += "@" + device.device;
        names.insert(c.rail.name);
        m_channels.push_back(std::move(c));
      }
      if (const auto ms = root.try_read_int(device.path + "/update_interval"); ms && *ms > 0) {
        interval_s = std::max(interval_s.value_or(0.0), static_cast<double>(*ms) * 1e-3);
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
    if (interval_s) {
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

  void read(std::vector<double>& power_W) const {
    std::size_t f = 0;
    for (std::size_t i = 0; i < m_channels.size(); ++i) {
      if (!m_channels[i].power_path.empty()) {
        power_W[i] = static_cast<double>(m_files[f++].read_int()) * m_channels[i].power_scale_W;
      } else {
        const double mV = static_cast<double>(m_files[f++].read_int());
        const double mA = static_cast<double>(m_files[f++].read_int());
        power_W[i] = mV * mA * 1e-6;
      }
    }
  }

  void do_start() override { m_window->start(); }
  WindowEnergy do_stop() override { return m_window->stop(); }

  Root m_root;
  std::vector<detail::Ina3221Channel> m_channels;
  std::vector<OpenAttribute> m_files;  // in the order read() takes them
  std::optional<detail::PowerWindow> m_window;
};

}  // namespace

std::unique_ptr<EnergySensor> make_ina3221_sensor(const Root& root, const SensorOptions& options) {
  return std::make_unique<Ina3221Sensor>(root, options);
}

}  // namespace edgeroof::power
