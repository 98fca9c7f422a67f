#include "mode_space_args.hpp"

#include "model_args.hpp"

#include <system_error>

namespace edgeroof::cli {

namespace fs = std::filesystem;

reports::Rooflines measured_in(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {};
  if (!fs::is_directory(dir, ec)) throw reports::InputError(echo(dir.string()) + ": not a directory");
  auto files = load_results_paths({dir.string()});
  if (files.empty()) return {};
  return reports::fit_rooflines(files);
}

std::string render_plan(const reports::Plan& plan, Format format) {
  if (format == Format::json) {
    auto doc = reports::to_json(plan);
    doc["reasons"] = plan.reasons;
    return json_text(doc);
  }
  Table t({"measure", "reason"});
  for (std::size_t i = 0; i < plan.measure.size(); ++i)
    t.add({plan.measure[i], i < plan.reasons.size() ? plan.reasons[i] : ""});
  std::string text = t.render(format);
  if (format == Format::table) {
    text += std::to_string(plan.measure.size()) + " to measure next; " + std::to_string(plan.measured) +
            " measured of a budget of " + std::to_string(plan.budget) + "\n";
  }
  return text;
}

}  // namespace edgeroof::cli
