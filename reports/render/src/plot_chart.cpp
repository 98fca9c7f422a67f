// Text made safe for where it goes, and the chart model: NAME.dat holds every text that came from
// a file, NAME.gp only text this program generated (GpText).
#include "plot_internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace edgeroof::reports::detail {

namespace {

// The length of the well-formed UTF-8 sequence at text[i] and its code point; 0 when malformed
// (a stray continuation byte, a truncated, overlong or surrogate sequence, beyond U+10FFFF).
std::size_t utf8_at(const std::string& text, std::size_t i, char32_t& cp) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  std::size_t n = 0;
  char32_t least = 0;
  if ((lead & 0xE0) == 0xC0) {
    n = 2, cp = lead & 0x1F, least = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3, cp = lead & 0x0F, least = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4, cp = lead & 0x07, least = 0x10000;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Control characters end lines or drive terminals; the bidirectional overrides reorder what a
// reader sees; U+FFFE/U+FFFF are not allowed in XML (the SVG charts).
bool shown(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return false;
  if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return false;
  return cp != 0xFFFE && cp != 0xFFFF;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_at(text, i, cp);
    if (n == 0 || !shown(cp)) {
      out += '?';
      i += n == 0 ? 1 : n;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

std::string html(const std::string& text) {
  std::string out;
  for (char c : printable(text)) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string data_string(const std::string& text, std::size_t max_chars) {
  std::string s = printable(text);
  std::replace(s.begin(), s.end(), '"', '\'');
  replace_all(s, "]]>", "]] >");
  std::size_t chars = 0, end = 0;
  for (; end < s.size(); ++end) {  // printable() left whole UTF-8 sequences: count their lead bytes
    if ((static_cast<unsigned char>(s[end]) & 0xC0) != 0x80 && chars++ == max_chars) break;
  }
  if (end < s.size()) s = s.substr(0, end) + "...";
  return "\"" + (s.empty() ? std::string("?") : s) + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) throw std::logic_error("a number that is not finite reached a chart");
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

DataBlock::DataBlock(std::string title, std::string where, Axes axes)
    : m_title(std::move(title)), m_where(std::move(where)), m_axes(axes) {}

void DataBlock::row(double x, double y, const std::string& label) {
  const bool ok = std::isfinite(x) && std::isfinite(y) && (m_axes == Axes::linear || x > 0.0) &&
                  (m_axes != Axes::log_log || y > 0.0);
  if (!ok) {
    ++m_left_out;
    return;
  }
  m_rows.push_back(num(x) + " " + num(y) + (label.empty() ? "" : " " + data_string(label)));
}

void DataBlock::cell(double x, double y, double z) {
  if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z)) {
    ++m_left_out;
    return;
  }
  m_rows.push_back(num(x) + " " + num(y) + " " + num(z));
}

Chart::Chart(GpText name, GpText title_before, std::string subject, GpText title_after)
    : m_name(std::move(name)),
      m_title_before(std::move(title_before)),
      m_title_after(std::move(title_after)),
      m_has_subject(!subject.empty()) {
  // The title parts go into single-quoted gnuplot strings, where only a quote is special.
  for (const auto* part : {&m_title_before, &m_title_after}) {
    if (part->str().find('\'') != std::string::npos) throw std::logic_error("a quote in a chart title");
  }
  m_data = "# edgeroof: the data of " + m_name.str() + ".gp, blocks chosen with `index N`\n";
  if (m_has_subject) {
    m_data += "# the subject of the title\n0 " + data_string(subject, 200) + "\n";
    ++m_blocks;
  }
}

void Chart::set(GpText line) { m_settings.push_back(line.str()); }

int Chart::plot(const DataBlock& block, GpText style, GpText columns) {
  if (block.left_out() > 0) {
    m_warnings.push_back(printable(block.where()) + ": " + std::to_string(block.left_out()) + " of " +
                         std::to_string(block.left_out() + block.rows().size()) + " points of " + m_name.str() +
                         " are not finite (or not positive on a log axis); left out");
  }
  if (block.empty()) return -1;
  m_data += (m_blocks == 0 ? "" : "\n\n") + std::string("# ") + printable(block.where()) + "\n";
  if (!block.title().empty()) m_data += "\"-\" " + data_string(block.title()) + "\n";
  for (const auto& r : block.rows()) m_data += r + "\n";
  m_plots.push_back("'" + m_name.str() + ".dat' index " + std::to_string(m_blocks) + " using " + columns.str() + " " +
                    style.str() + (block.title().empty() ? " notitle" : " title columnheader(2)"));
  return m_blocks++;
}

void Chart::labels(int index, GpText style) {
  if (index < 0) return;
  m_plots.push_back("'" + m_name.str() + ".dat' index " + std::to_string(index) + " using 1:2:3 with labels " +
                    style.str() + " notitle");
}

void Chart::plot_function(GpText spec) { m_plots.push_back(spec.str()); }

std::string Chart::script() const {
  const std::string& n = m_name.str();
  std::string s = "# edgeroof: " + n + ". Generated text only; every name read from a file is in " + n +
                  ".dat. Restyle freely, then render with e.g.\n"
                  "#   gnuplot -e \"set terminal pngcairo size 1100,750; set output '" +
                  n + ".png'\" " + n + ".gp\n#   gnuplot -e \"set terminal svg size 1100,750 dynamic; set output '" +
                  n + ".svg'\" " + n + ".gp\n\nset termoption noenhanced\n";
  if (m_has_subject) {
    // strcol() reads the subject as a value: it is never parsed as a command line, so backquotes,
    // macros and quotes in it stay text.
    s += "stats '" + n + ".dat' index 0 using (subject = strcol(2), 0) nooutput\n";
    s += "set title '" + m_title_before.str() + "'.subject.'" + m_title_after.str() + "'\n";
  } else {
    s += "set title '" + m_title_before.str() + m_title_after.str() + "'\n";
  }
  s += "set grid\nset key outside right top\n";
  for (const auto& l : m_settings) s += l + "\n";
  s += "plot \\\n";
  for (std::size_t i = 0; i < m_plots.size(); ++i) s += "  " + m_plots[i] + (i + 1 < m_plots.size() ? ", \\\n" : "\n");
  return s;
}

}  // namespace edgeroof::reports::detail
