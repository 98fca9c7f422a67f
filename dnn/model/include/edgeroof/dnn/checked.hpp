// Input is hostile until checked: integer arithmetic that refuses to overflow, text cut short for
// an error line, and JSON fields read with their file and JSON path named in the error. Used by the
// counting side (ops, workload tables) and by the readers of reports/ (rooflines.json), so every
// bad figure is refused with the same kind of line:
//   rooflines.json: modes[3] (maxn): energy.cuda.eps_flop_J.fp32 = -1e-12 is negative
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::dnn {

// a * b, or nullopt when the product does not fit in 64 bits.
[[nodiscard]] inline std::optional<std::int64_t> mul_int64(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a + b, or nullopt when the sum does not fit in 64 bits.
[[nodiscard]] inline std::optional<std::int64_t> add_int64(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Text from a user or a file as it may appear in a one-line error: control characters shown as
// \n, \t or ?, and at most `max_chars` characters, "…" marking the cut.
[[nodiscard]] inline std::string excerpt(std::string_view text, std::size_t max_chars = 80) {
  std::string out;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (shown == max_chars) return out + "…";
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
    // A UTF-8 continuation byte belongs to the character before it.
    if ((c & 0xC0) != 0x80) ++shown;
  }
  return out;
}

// What a number read from a file must be, besides finite.
enum class Sign { any, non_negative, positive };

// The fields of one JSON object read from a file. Every accessor checks type and range and throws
// Error with one line: `where` (the file and the entry, e.g. "rooflines.json: modes[3] (maxn): "),
// the JSON path of the field, and what is wrong with it. A null optional field is absent (JSON's
// unknown); a null required field is an error.
template <class Error>
class JsonFields {
public:
  using json = nlohmann::json;

  JsonFields(const json& object, std::string where, std::string path = {})
      : m_object(object), m_where(std::move(where)), m_path(std::move(path)) {
    if (!m_object.is_object()) fail_path(m_path.empty() ? "the entry" : m_path, kind(m_object) + ", not an object");
  }

  [[nodiscard]] std::string path(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }
  [[nodiscard]] bool has(const std::string& key) const {
    const auto it = m_object.find(key);
    return it != m_object.end() && !it->is_null();
  }
  [[nodiscard]] const json& value(const std::string& key) const {
    if (!has(key)) {
      if (m_object.contains(key)) fail(key, " is null");
      fail(key, " is missing");
    }
    return m_object.at(key);
  }
  [[nodiscard]] JsonFields child(const std::string& key) const { return {value(key), m_where, path(key)}; }
  [[nodiscard]] const json& array(const std::string& key) const {
    const json& v = value(key);
    if (!v.is_array()) fail(key, " is " + kind(v) + ", not an array");
    return v;
  }
  // The object at index i of the array at key.
  [[nodiscard]] JsonFields item(const std::string& key, std::size_t i) const {
    return {array(key).at(i), m_where, element(key, i)};
  }

  [[nodiscard]] std::string string(const std::string& key) const { return string_at(value(key), path(key)); }
  [[nodiscard]] std::optional<std::string> optional_string(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return string(key);
  }
  [[nodiscard]] double number(const std::string& key, Sign sign) const {
    return number_at(value(key), path(key), sign);
  }
  [[nodiscard]] std::optional<double> optional_number(const std::string& key, Sign sign) const {
    if (!has(key)) return std::nullopt;
    return number(key, sign);
  }
  [[nodiscard]] std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) const {
    return integer_at(value(key), path(key), min, max);
  }
  [[nodiscard]] std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t min,
                                                             std::int64_t max) const {
    if (!has(key)) return std::nullopt;
    return integer(key, min, max);
  }
  [[nodiscard]] std::optional<bool> optional_bool(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& v = value(key);
    if (!v.is_boolean()) fail(key, " is " + kind(v) + ", not true or false");
    return v.get<bool>();
  }
  // An object of numbers ({"fp32": 7.1e-12, ...}); absent is empty.
  [[nodiscard]] std::map<std::string, double> numbers(const std::string& key, Sign sign) const {
    std::map<std::string, double> out;
    if (!has(key)) return out;
    const JsonFields table = child(key);
    for (const auto& [k, v] : table.m_object.items()) out[k] = number_at(v, table.path(k), sign);
    return out;
  }
  // An object of strings; absent is empty.
  [[nodiscard]] std::map<std::string, std::string> string_map(const std::string& key) const {
    std::map<std::string, std::string> out;
    if (!has(key)) return out;
    const JsonFields table = child(key);
    for (const auto& [k, v] : table.m_object.items()) out[k] = string_at(v, table.path(k));
    return out;
  }
  // An array of strings; absent is empty.
  [[nodiscard]] std::vector<std::string> strings(const std::string& key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const json& a = array(key);
    for (std::size_t i = 0; i < a.size(); ++i) out.push_back(string_at(a[i], element(key, i)));
    return out;
  }
  [[nodiscard]] std::string element(const std::string& key, std::size_t i) const {
    return path(key) + "[" + std::to_string(i) + "]";
  }

  [[nodiscard]] std::string string_at(const json& v, const std::string& at) const {
    if (!v.is_string()) fail_path(at, " is " + kind(v) + ", not a string");
    return v.get<std::string>();
  }
  [[nodiscard]] double number_at(const json& v, const std::string& at, Sign sign) const {
    if (!v.is_number()) fail_path(at, " is " + kind(v) + ", not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail_path(at, " = " + v.dump() + " is not finite");
    if (sign == Sign::non_negative && d < 0.0) fail_path(at, " = " + v.dump() + " is negative");
    if (sign == Sign::positive && !(d > 0.0)) fail_path(at, " = " + v.dump() + " is not positive");
    return d;
  }
  [[nodiscard]] std::int64_t integer_at(const json& v, const std::string& at, std::int64_t min,
                                        std::int64_t max) const {
    constexpr double two_63 = 9223372036854775808.0;
    std::int64_t i = 0;
    if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail_path(at, " = " + v.dump() + " does not fit in 64 bits");
      i = static_cast<std::int64_t>(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      i = v.get<std::int64_t>();
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      if (!std::isfinite(d) || d != std::floor(d)) fail_path(at, " = " + v.dump() + " is not a whole number");
      if (d < -two_63 || d >= two_63) fail_path(at, " = " + v.dump() + " does not fit in 64 bits");
      i = static_cast<std::int64_t>(d);
    } else {
      fail_path(at, " is " + kind(v) + ", not a whole number");
    }
    if (i < min || i > max) fail_path(at, " = " + v.dump() + range_problem(min, max));
    return i;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const { fail_path(path(key), problem); }
  [[noreturn]] void fail_path(const std::string& at, const std::string& problem) const {
    throw Error(m_where + at + problem);
  }

private:
  static std::string kind(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    if (v.is_string()) return "a string \"" + excerpt(v.get<std::string>(), 40) + "\"";
    if (v.is_boolean()) return "a boolean";
    return "a number";
  }
  static std::string range_problem(std::int64_t min, std::int64_t max) {
    if (max == std::numeric_limits<std::int64_t>::max()) {
      if (min == 1) return " is not positive";
      if (min == 0) return " is negative";
      return " is below " + std::to_string(min);
    }
    return " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")";
  }

  const json& m_object;
  std::string m_where;
  std::string m_path;
};

}  // namespace edgeroof::dnn
