// The "Findings" section of index.html: the study's findings on the user's own results
// (findings.hpp), one item per line of findings_lines(), every name read from a file escaped.
#include "plot_internal.hpp"

namespace edgeroof::reports::detail {

std::string findings_html(const std::optional<Findings>& findings) {
  if (!findings) return "";
  std::string s =
      "<h2>Findings</h2>\n<p>Savings are against the baseline, within the slowdown given over the fastest mode's "
      "predicted latency (as <code>edgeroof tune --max-slowdown</code>). Each line ends in where its figures come "
      "from.</p>\n<ul>\n";
  for (const auto& line : findings_lines(*findings)) s += "<li>" + html(line) + "</li>\n";
  return s + "</ul>\n";
}

}  // namespace edgeroof::reports::detail
