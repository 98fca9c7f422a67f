// The sensor interface's shared part (window bookkeeping, the total) and the run-time choice.
#include "edgeroof/power/sensor.hpp"

#include <stdexcept>

namespace edgeroof::power {

void EnergySensor::set_period(std::optional<double> period_s, std::string source) {
  m_period_s = period_s;
  m_period_source = period_s ? std::move(source) : std::string();
}

std::string EnergySensor::total_description() const {
  for (const auto& rail : m_rails) {
    if (rail.board_total) return rail.name;
  }
  std::string text;
  for (const auto& rail : m_rails) {
    if (!rail.inside.empty()) continue;
    if (!text.empty()) text += '+';
    text += rail.name;
  }
  return text;
}

void EnergySensor::start() {
  if (!available()) throw SensorError(m_name + " sensor unavailable: " + m_unavailable);
  if (m_running) throw SensorError(m_name + " sensor: start() while a window is open");
  do_start();
  m_running = true;
}

WindowEnergy EnergySensor::stop() {
  if (!m_running) throw SensorError(m_name + " sensor: stop() without start()");
  m_running = false;
  WindowEnergy w = do_stop();
  if (w.rail_J.size() != m_rails.size()) throw SensorError(m_name + " sensor: wrong number of rails");
  // The board's input where it is measured; else the rails not already counted inside another.
  bool have_total_rail = false;
  for (std::size_t r = 0; r < m_rails.size(); ++r) {
    if (m_rails[r].board_total) {
      w.total_J = w.rail_J[r];
      have_total_rail = true;
      break;
    }
  }
  if (!have_total_rail) {
    w.total_J = 0.0;
    for (std::size_t r = 0; r < m_rails.size(); ++r) {
      if (m_rails[r].inside.empty()) w.total_J += w.rail_J[r];
    }
  }
  return w;
}

SensorKind parse_sensor_kind(std::string_view text) {
  if (text == "auto") return SensorKind::automatic;
  if (text == "ina3221") return SensorKind::ina3221;
  if (text == "nvml") return SensorKind::nvml;
  if (text == "rapl") return SensorKind::rapl;
  if (text == "none") return SensorKind::none;
  throw std::invalid_argument("unknown sensor '" + std::string(text) + "' (auto, ina3221, nvml, rapl or none)");
}

std::unique_ptr<EnergySensor> make_sensor(SensorKind kind, const Root& root, const SensorOptions& options) {
  switch (kind) {
  case SensorKind::ina3221:
    return make_ina3221_sensor(root, options);
  case SensorKind::nvml:
    return make_nvml_sensor(options);
  case SensorKind::rapl:
    return make_rapl_sensor(root, options);
  case SensorKind::none:
    return make_none_sensor("no sensor requested (--sensor=none)");
  case SensorKind::automatic:
    break;
  }
  // Best first: a board's own rails include everything; NVML sees only the GPU and RAPL only the
  // CPU, so where both work they are read together.
  std::string reasons;
  auto ina = make_ina3221_sensor(root, options);
  if (ina->available()) return ina;
  reasons += "ina3221: " + ina->unavailable_reason();
  auto nvml = make_nvml_sensor(options);
  auto rapl = make_rapl_sensor(root, options);
  if (nvml->available() && rapl->available()) {
    std::vector<std::unique_ptr<EnergySensor>> parts;
    parts.push_back(std::move(nvml));
    parts.push_back(std::move(rapl));
    return make_composite_sensor(std::move(parts));
  }
  if (nvml->available()) return nvml;
  if (rapl->available()) return rapl;
  reasons += "; nvml: " + nvml->unavailable_reason();
  reasons += "; rapl: " + rapl->unavailable_reason();
  return make_none_sensor(reasons);
}

}  // namespace edgeroof::power
