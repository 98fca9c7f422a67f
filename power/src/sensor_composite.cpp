// Several sensors read as one: a desktop's GPU (NVML) and CPU (RAPL) measure different parts of
// the machine, so a benchmark of either backend is charged with both, and the total is the sum of
// each part's own total.
#include "edgeroof/power/sensor.hpp"

#include <algorithm>
#include <exception>
#include <optional>

namespace edgeroof::power {

namespace {

class CompositeSensor final : public EnergySensor {
public:
  explicit CompositeSensor(std::vector<std::unique_ptr<EnergySensor>> parts)
      : EnergySensor(joined_names(parts)), m_parts(std::move(parts)) {
    std::vector<Rail> rails;
    std::optional<double> period_s;
    for (const auto& part : m_parts) {
      for (Rail rail : part->rails()) {
        // A part's board total (RAPL psys) is that part's total only: the sum of the parts'
        // top-level rails then adds each part once. Its other rails stay inside it.
        rail.board_total = false;
        rails.push_back(rail);
      }
      // The slowest part decides how long a window must be to span its updates.
      if (part->update_period_s()) period_s = std::max(period_s.value_or(0.0), *part->update_period_s());
      for (const auto& warning : part->warnings()) add_warning(warning);
    }
    set_rails(std::move(rails));
    set_period(period_s, "measured");
  }

private:
  static std::string joined_names(const std::vector<std::unique_ptr<EnergySensor>>& parts) {
    std::string name;
    for (const auto& p : parts) name += (name.empty() ? "" : "+") + p->name();
    return name;
  }

  void do_start() override {
    std::size_t started = 0;
    try {
      for (; started < m_parts.size(); ++started) m_parts[started]->start();
    } catch (...) {
      for (std::size_t i = 0; i < started; ++i) {
        try {
          (void)m_parts[i]->stop();
        } catch (...) {
        }
      }
      throw;
    }
  }

  WindowEnergy do_stop() override {
    WindowEnergy all;
    std::exception_ptr error;
    for (auto it = m_parts.rbegin(); it != m_parts.rend(); ++it) {
      try {
        const WindowEnergy w = (*it)->stop();
        all.duration_s = std::max(all.duration_s, w.duration_s);
        all.readings += w.readings;
        all.rail_J.insert(all.rail_J.begin(), w.rail_J.begin(), w.rail_J.end());
        all.warnings.insert(all.warnings.begin(), w.warnings.begin(), w.warnings.end());
      } catch (...) {
        // Every part is stopped; the first failure is reported.
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return all;
  }

  std::vector<std::unique_ptr<EnergySensor>> m_parts;
};

}  // namespace

std::unique_ptr<EnergySensor> make_composite_sensor(std::vector<std::unique_ptr<EnergySensor>> parts) {
  return std::make_unique<CompositeSensor>(std::move(parts));
}

}  // namespace edgeroof::power
