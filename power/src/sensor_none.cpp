// The sensor of a machine where energy cannot be measured: it has no rails, and says why.
#include "edgeroof/power/sensor.hpp"

namespace edgeroof::power {

namespace {

class NoneSensor final : public EnergySensor {
public:
  explicit NoneSensor(std::string reason) : EnergySensor("none") { set_unavailable(std::move(reason)); }

private:
  void do_start() override {}
  WindowEnergy do_stop() override { return {}; }
};

}  // namespace

std::unique_ptr<EnergySensor> make_none_sensor(std::string reason) {
  return std::make_unique<NoneSensor>(reason.empty() ? std::string("no sensor") : std::move(reason));
}

}  // namespace edgeroof::power
