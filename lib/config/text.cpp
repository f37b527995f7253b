// config/text.cpp: scalar text rules shared by the loader, the overrides and the dumpers: what counts as
// null, a bool, an int or a float, how floats are printed so they read back exactly, when a string must be
// quoted, and memtx::edit_distance (memtx/text.hpp), used for "did you mean" suggestions here and in the CLI.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include "config/internal.hpp"
#include "memtx/text.hpp"

namespace memtx {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent swaps cost 1. Three rows of
  // the dynamic programme (i - 2, i - 1, i): O(|b|) memory, O(|a| |b|) time.
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> before(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

}  // namespace memtx

namespace memtx::config_detail {

bool is_null_text(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> parse_bool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

namespace {

// from_chars rejects a leading '+'; YAML and people write it.
const char* skip_plus(const std::string& s) {
  const char* p = s.data();
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') ++p;
  return p;
}

}  // namespace

std::optional<double> parse_float(const std::string& s) {
  if (s.empty()) return std::nullopt;
  const char* begin = skip_plus(s);
  const char* end = s.data() + s.size();
  double v = 0.0;
  auto [ptr, ec] = std::from_chars(begin, end, v, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  const char* begin = skip_plus(s);
  const char* end = s.data() + s.size();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(begin, end, v, 10);
  if (ec == std::errc() && ptr == end) return v;
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  // Integral floats (2.0, 1e3) are accepted for int keys; 2.5 is not.
  auto f = parse_float(s);
  if (!f || std::floor(*f) != *f || std::fabs(*f) > 9007199254740992.0) return std::nullopt;
  return static_cast<int64_t>(*f);
}

std::string format_float(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string out = ec == std::errc() ? std::string(buf, ptr) : std::to_string(v);
  if (out.find_first_of(".eEni") == std::string::npos) out += ".0";
  // "1e-06" -> "1e-6", "1e+20" -> "1e+20": no zero padding in the exponent.
  size_t e = out.find('e');
  if (e != std::string::npos && e + 2 < out.size()) {
    size_t digits = e + 2;
    while (digits + 1 < out.size() && out[digits] == '0') out.erase(digits, 1);
  }
  return out;
}

bool needs_quotes(const std::string& s) {
  if (s.empty() || is_null_text(s) || parse_bool(s) || parse_float(s) || parse_int(s)) return true;
  // Surrounding blanks would be lost; a leading '-' may read as a sequence entry ("- x", "-").
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '-') return true;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '/' || c == '-' || c == '+' || c == ' ';
    if (!ok) return true;
  }
  return false;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string section_of(const std::string& key) {
  size_t dot = key.find('.');
  return dot == std::string::npos ? std::string() : key.substr(0, dot);
}

std::string name_of(const std::string& key) {
  size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string shown_name(const std::string& name) {
  constexpr size_t kShown = 100;
  if (name.size() <= kShown + 20) return name;
  size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut) + "... (" + std::to_string(name.size()) + " bytes)";
}

namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when the byte there does not start one.
size_t utf8_length_at(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
  else return 0;
  if (n > s.size() - i) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3F);
  }
  const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

}  // namespace memtx::config_detail

namespace memtx {

std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = config_detail::utf8_length_at(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace memtx
