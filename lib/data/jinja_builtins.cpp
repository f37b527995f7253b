// data/jinja_builtins.cpp: the filters, tests and methods of the chat-template engine (see
// jinja_builtins.hpp).
#include "data/jinja_builtins.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace memtx::data::jinja {
namespace {

const char* const kSpace = " \t\n\r\f\v";

std::string strip(const std::string& s, const std::string& chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  }
  if (right) {
    while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  }
  return s.substr(b, e - b);
}

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s) c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                                : std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                        Budget& budget) {
  std::string out;
  size_t pos = 0;
  if (from.empty()) return s;  // Python inserts `to` between characters; not needed by chat templates
  for (size_t at; count != 0 && (at = s.find(from, pos)) != std::string::npos; --count) {
    out.append(s, pos, at - pos);
    out += to;
    budget.check_string(out.size());
    pos = at + from.size();
  }
  out.append(s, pos, std::string::npos);
  budget.check_string(out.size());
  return out;
}

const Value& arg(const Args& args, const Kwargs& kwargs, size_t k, const char* key) {
  static const Value missing;
  if (k < args.size()) return args[k];
  for (const auto& [name, v] : kwargs)
    if (name == key) return v;
  return missing;
}

std::string need_string(const Value& v, const char* what) {
  if (v.kind != Value::Kind::String) throw Fault(std::string(what) + " needs a string, not a " + kind_name(v));
  return v.s;
}

// The items of an iterable: a list, a string's characters, a dict's keys; undefined is empty.
List items_of(const Value& v, const char* what, Budget& budget) {
  switch (v.kind) {
    case Value::Kind::List: budget.spend(v.list->size()); return *v.list;
    case Value::Kind::Undefined: return {};
    case Value::Kind::String: {
      List out;
      for (auto& c : utf8_chars(v.s)) out.push_back(Value::string(std::move(c)));
      budget.spend(out.size());
      return out;
    }
    case Value::Kind::Dict: {
      List out;
      for (const auto& [k, x] : *v.dict) out.push_back(Value::string(k));
      budget.spend(out.size());
      return out;
    }
    default: throw Fault(std::string(what) + ": a " + kind_name(v) + " is not iterable");
  }
}

// x.a.b (a dotted attribute, or an item for an integer part).
Value attribute_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = std::min(path.find('.', pos), path.size());
    const std::string part = path.substr(pos, dot - pos);
    if (cur.is_mapping()) {
      const Value* found = cur.find(part);
      cur = found ? *found : Value::undefined(part);
    } else if (cur.kind == Value::Kind::List && !part.empty() &&
               std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      cur = index_of(cur, Value::integer(std::atoll(part.c_str())));
    } else {
      return Value::undefined(part);
    }
    pos = dot + 1;
  }
  return cur;
}

int64_t to_int(const Value& v, int64_t fallback) {
  switch (v.kind) {
    case Value::Kind::Int: return v.i;
    case Value::Kind::Bool: return v.b;
    case Value::Kind::Float: return std::isfinite(v.f) && std::fabs(v.f) < 9e18 ? int64_t(v.f) : fallback;
    case Value::Kind::String: {
      const std::string t = strip(v.s, kSpace, true, true);
      char* end = nullptr;
      errno = 0;
      const long long x = std::strtoll(t.c_str(), &end, 10);
      if (!t.empty() && *end == '\0' && errno == 0) return x;
      const double d = std::strtod(t.c_str(), &end);
      if (!t.empty() && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9e18) return int64_t(d);
      return fallback;
    }
    default: return fallback;
  }
}

Value select(const Value& operand, const Args& args, bool by_attribute, bool keep, Budget& budget) {
  const char* what = by_attribute ? (keep ? "selectattr" : "rejectattr") : (keep ? "select" : "reject");
  List out;
  size_t k = 0;
  std::string attribute;
  if (by_attribute) {
    if (args.empty()) throw Fault(std::string(what) + " needs an attribute name");
    attribute = need_string(args[0], what);
    k = 1;
  }
  const std::string test = k < args.size() ? need_string(args[k], what) : std::string();
  const Args test_args(args.begin() + std::min(args.size(), k + 1), args.end());
  for (const Value& item : items_of(operand, what, budget)) {
    const Value v = by_attribute ? attribute_path(item, attribute) : item;
    const bool pass = test.empty() ? truthy(v) : apply_test(test, v, test_args);
    if (pass == keep) out.push_back(item);
  }
  return Value::list_of(std::move(out));
}

}  // namespace

Value index_of(const Value& object, const Value& index) {
  if (object.kind == Value::Kind::List || object.kind == Value::Kind::String) {
    if (index.kind != Value::Kind::Int && index.kind != Value::Kind::Bool) return Value::undefined();
    const int64_t i = index.kind == Value::Kind::Bool ? index.b : index.i;
    if (object.kind == Value::Kind::List) {
      const int64_t n = static_cast<int64_t>(object.list->size());
      const int64_t at = i < 0 ? i + n : i;
      return at >= 0 && at < n ? (*object.list)[at] : Value::undefined();
    }
    const auto chars = utf8_chars(object.s);
    const int64_t n = static_cast<int64_t>(chars.size());
    const int64_t at = i < 0 ? i + n : i;
    return at >= 0 && at < n ? Value::string(chars[at]) : Value::undefined();
  }
  if (object.is_mapping()) {
    const Value* found = object.find(index.kind == Value::Kind::String ? index.s : to_str(index));
    return found ? *found : Value::undefined(to_str(index));
  }
  return Value::undefined(to_str(index));
}

Value slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v, Budget& budget) {
  const auto bound = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.kind == Value::Kind::Undefined || v.kind == Value::Kind::None) return std::nullopt;
    if (v.kind != Value::Kind::Int && v.kind != Value::Kind::Bool)
      throw Fault(std::string("a slice ") + what + " must be an integer, not a " + kind_name(v));
    return v.kind == Value::Kind::Bool ? int64_t(v.b) : v.i;
  };
  const auto start = bound(start_v, "start"), stop = bound(stop_v, "stop"), step_o = bound(step_v, "step");
  const int64_t step = step_o.value_or(1);
  if (step == 0) throw Fault("a slice step cannot be zero");
  List items;
  std::vector<std::string> chars;
  int64_t n = 0;
  if (object.kind == Value::Kind::List) {
    n = static_cast<int64_t>(object.list->size());
  } else if (object.kind == Value::Kind::String) {
    chars = utf8_chars(object.s);
    n = static_cast<int64_t>(chars.size());
  } else if (object.kind == Value::Kind::Undefined) {
    throw Fault("cannot slice an undefined value" + (object.s.empty() ? "" : " ('" + object.s + "')"));
  } else {
    throw Fault(std::string("cannot slice a ") + kind_name(object));
  }
  // Python's slice.indices.
  const auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = clamp(start, step > 0 ? 0 : n - 1), e = clamp(stop, step > 0 ? n : -1);
  std::string text;
  for (int64_t k = b; step > 0 ? k < e : k > e; k += step) {
    budget.spend(1);
    if (object.kind == Value::Kind::List) items.push_back((*object.list)[k]);
    else text += chars[k];
  }
  return object.kind == Value::Kind::List ? Value::list_of(std::move(items)) : Value::string(std::move(text));
}

bool apply_test(const std::string& name, const Value& v, const Args& args) {
  using K = Value::Kind;
  if (name == "defined") return v.kind != K::Undefined;
  if (name == "undefined") return v.kind == K::Undefined;
  if (name == "none") return v.kind == K::None;
  if (name == "string") return v.kind == K::String;
  if (name == "mapping") return v.kind == K::Dict;
  if (name == "iterable") return v.kind == K::List || v.kind == K::String || v.kind == K::Dict;
  if (name == "sequence") return v.kind == K::List || v.kind == K::String || v.kind == K::Dict;
  if (name == "number") return v.kind == K::Int || v.kind == K::Float || v.kind == K::Bool;
  if (name == "integer") return v.kind == K::Int;
  if (name == "float") return v.kind == K::Float;
  if (name == "boolean") return v.kind == K::Bool;
  if (name == "true") return v.kind == K::Bool && v.b;
  if (name == "false") return v.kind == K::Bool && !v.b;
  if (name == "callable") return v.kind == K::Macro;
  if (name == "odd" || name == "even") {
    if (v.kind != K::Int) throw Fault("the test '" + name + "' needs an integer, not a " + kind_name(v));
    return (v.i % 2 != 0) == (name == "odd");
  }
  if (name == "eq" || name == "equalto" || name == "==" || name == "ne" || name == "!=" || name == "sameas") {
    if (args.empty()) throw Fault("the test '" + name + "' needs an argument");
    return equal(v, args[0]) == (name != "ne" && name != "!=");
  }
  if (name == "in") {
    if (args.empty()) throw Fault("the test 'in' needs an argument");
    const Value& c = args[0];
    if (c.kind == K::String && v.kind == K::String) return c.s.find(v.s) != std::string::npos;
    if (c.kind == K::List)
      return std::any_of(c.list->begin(), c.list->end(), [&](const Value& x) { return equal(x, v); });
    if (c.is_mapping()) return v.kind == K::String && c.find(v.s);
    throw Fault(std::string("the test 'in' needs a container, not a ") + kind_name(c));
  }
  if (name == "lower" || name == "upper") {
    if (v.kind != K::String) return false;
    return v.s == ascii_case(v.s, name == "upper");
  }
  throw Fault("unknown test '" + name + "'");
}

Value apply_filter(const std::string& name, const Value& v, const Args& args, const Kwargs& kwargs,
                   Budget& budget) {
  using K = Value::Kind;
  if (name == "safe") return v;
  if (name == "string") return Value::string(to_str(v));
  if (name == "trim") {
    const Value& chars = arg(args, kwargs, 0, "chars");
    return Value::string(strip(to_str(v), chars.kind == K::String ? chars.s : kSpace, true, true));
  }
  if (name == "upper" || name == "lower") return Value::string(ascii_case(to_str(v), name == "upper"));
  if (name == "capitalize") {
    std::string s = ascii_case(to_str(v), false);
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return Value::string(s);
  }
  if (name == "title") {
    std::string s = to_str(v);
    bool start = true;
    for (char& c : s) {
      const bool alpha = std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
      c = static_cast<char>(start ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
      start = !alpha;
    }
    return Value::string(s);
  }
  if (name == "length" || name == "count") {
    switch (v.kind) {
      case K::String: return Value::integer(static_cast<int64_t>(utf8_length(v.s)));
      case K::List: return Value::integer(static_cast<int64_t>(v.list->size()));
      case K::Dict: case K::Namespace: return Value::integer(static_cast<int64_t>(v.dict->size()));
      case K::Undefined: return Value::integer(0);
      default: throw Fault(std::string("length: a ") + kind_name(v) + " has no length");
    }
  }
  if (name == "default" || name == "d") {
    const Value& fallback = arg(args, kwargs, 0, "default_value");
    const bool boolean = truthy(arg(args, kwargs, 1, "boolean"));
    if (v.kind == K::Undefined || (boolean && !truthy(v))) return fallback.kind == K::Undefined ? Value::string("") : fallback;
    return v;
  }
  if (name == "tojson") {
    const Value& indent = arg(args, kwargs, 0, "indent");
    if (indent.kind != K::Undefined && indent.kind != K::None && indent.kind != K::Int)
      throw Fault("tojson: indent must be an integer");
    const int width = indent.kind == K::Int ? static_cast<int>(std::clamp<int64_t>(indent.i, 0, 64)) : -1;
    bool ok = false;
    std::string text = to_json(v, width, truthy(arg(args, kwargs, 99, "sort_keys")), &ok);
    if (!ok) throw Fault(std::string("tojson: a ") + kind_name(v) + " value is not JSON serializable");
    budget.check_string(text.size());
    return Value::string(std::move(text));
  }
  if (name == "join") {
    const Value& sep = arg(args, kwargs, 0, "d");
    const Value& attribute = arg(args, kwargs, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : items_of(v, "join", budget)) {
      if (!first) out += sep.kind == K::Undefined ? "" : to_str(sep);
      out += to_str(attribute.kind == K::String ? attribute_path(item, attribute.s) : item);
      budget.check_string(out.size());
      first = false;
    }
    return Value::string(std::move(out));
  }
  if (name == "first" || name == "last") {
    const List items = items_of(v, name.c_str(), budget);
    if (items.empty()) return Value::undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::list_of(items_of(v, "list", budget));
  if (name == "reverse") {
    if (v.kind == K::String) {
      auto chars = utf8_chars(v.s);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value::string(out);
    }
    List items = items_of(v, "reverse", budget);
    std::reverse(items.begin(), items.end());
    return Value::list_of(std::move(items));
  }
  if (name == "items") {
    if (v.kind == K::Undefined) return Value::list_of({});
    if (!v.is_mapping()) throw Fault(std::string("items: a ") + kind_name(v) + " is not a mapping");
    List out;
    budget.spend(v.dict->size());
    for (const auto& [k, x] : *v.dict) out.push_back(Value::list_of({Value::string(k), x}));
    return Value::list_of(std::move(out));
  }
  if (name == "replace") {
    const Value& count = arg(args, kwargs, 2, "count");
    return Value::string(replace_all(to_str(v), to_str(arg(args, kwargs, 0, "old")), to_str(arg(args, kwargs, 1, "new")),
                                     count.kind == K::Int ? count.i : -1, budget));
  }
  if (name == "int") return Value::integer(to_int(v, to_int(arg(args, kwargs, 0, "default"), 0)));
  if (name == "float") {
    if (v.is_number()) return Value::real(v.number());
    if (v.kind == K::String) {
      const std::string t = strip(v.s, kSpace, true, true);
      char* end = nullptr;
      const double d = std::strtod(t.c_str(), &end);
      if (!t.empty() && *end == '\0') return Value::real(d);
    }
    const Value& d = arg(args, kwargs, 0, "default");
    return Value::real(d.is_number() ? d.number() : 0.0);
  }
  if (name == "abs") {
    if (v.kind == K::Int) return Value::integer(v.i < 0 ? -v.i : v.i);
    if (v.is_number()) return Value::real(std::fabs(v.number()));
    throw Fault(std::string("abs: a ") + kind_name(v) + " is not a number");
  }
  if (name == "round") {
    if (!v.is_number()) throw Fault(std::string("round: a ") + kind_name(v) + " is not a number");
    const Value& precision = arg(args, kwargs, 0, "precision");
    const Value& method = arg(args, kwargs, 1, "method");
    const int p = precision.kind == K::Int ? static_cast<int>(std::clamp<int64_t>(precision.i, -20, 20)) : 0;
    const double scale = std::pow(10.0, p), x = v.number() * scale;
    const std::string m = method.kind == K::String ? method.s : "common";
    double r = m == "floor" ? std::floor(x) : m == "ceil" ? std::ceil(x) : std::round(x);
    return Value::real(r / scale);
  }
  if (name == "selectattr" || name == "rejectattr") return select(v, args, true, name == "selectattr", budget);
  if (name == "select" || name == "reject") return select(v, args, false, name == "select", budget);
  if (name == "map") {
    List out;
    const Value* attr = nullptr;
    for (const auto& [k, x] : kwargs)
      if (k == "attribute") attr = &x;
    const Value* fallback = nullptr;
    for (const auto& [k, x] : kwargs)
      if (k == "default") fallback = &x;
    for (const Value& item : items_of(v, "map", budget)) {
      if (attr) {
        Value got = attribute_path(item, to_str(*attr));
        out.push_back(got.kind == K::Undefined && fallback ? *fallback : got);
      } else {
        if (args.empty()) throw Fault("map needs a filter name or attribute=");
        const Args rest(args.begin() + 1, args.end());
        out.push_back(apply_filter(need_string(args[0], "map"), item, rest, {}, budget));
      }
    }
    return Value::list_of(std::move(out));
  }
  if (name == "unique") {
    List out;
    for (const Value& item : items_of(v, "unique", budget)) {
      if (out.size() > 10000) throw Fault("unique: too many items");
      if (std::none_of(out.begin(), out.end(), [&](const Value& x) { return equal(x, item); })) out.push_back(item);
    }
    return Value::list_of(std::move(out));
  }
  if (name == "indent") {
    const Value& width_v = arg(args, kwargs, 0, "width");
    const int64_t width = width_v.kind == K::Int ? std::clamp<int64_t>(width_v.i, 0, 256) : 4;
    const bool first = truthy(arg(args, kwargs, 1, "first"));
    const bool blank = truthy(arg(args, kwargs, 2, "blank"));
    const std::string pad(static_cast<size_t>(width), ' ');
    const std::string s = to_str(v);
    std::string out;
    size_t pos = 0;
    for (bool first_line = true; pos <= s.size(); first_line = false) {
      const size_t nl = std::min(s.find('\n', pos), s.size());
      const std::string line = s.substr(pos, nl - pos);
      if ((!first_line || first) && (blank || !line.empty())) out += pad;
      out += line;
      if (nl < s.size()) out += '\n';
      budget.check_string(out.size());
      pos = nl + 1;
    }
    return Value::string(out);
  }
  throw Fault("unknown filter '" + name + "'");
}

Value call_method(const Value& o, const std::string& name, const Args& args, const Kwargs& kwargs, Budget& budget,
                  bool* found) {
  using K = Value::Kind;
  *found = true;
  if (o.kind == K::String) {
    const std::string& s = o.s;
    const Value& a0 = arg(args, kwargs, 0, "");
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const std::string chars = a0.kind == K::String ? a0.s : kSpace;
      return Value::string(strip(s, chars, name != "rstrip", name != "lstrip"));
    }
    if (name == "upper" || name == "lower") return Value::string(ascii_case(s, name == "upper"));
    if (name == "capitalize" || name == "title") return apply_filter(name, o, {}, {}, budget);
    if (name == "startswith" || name == "endswith") {
      List options = a0.kind == K::List ? *a0.list : List{a0};
      for (const Value& p : options) {
        const std::string x = need_string(p, name.c_str());
        const bool hit = name == "startswith" ? s.compare(0, x.size(), x) == 0
                                              : s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
        if (hit) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (name == "replace") {
      const Value& count = arg(args, kwargs, 2, "count");
      return Value::string(replace_all(s, need_string(a0, "replace"), need_string(arg(args, kwargs, 1, ""), "replace"),
                                       count.kind == K::Int ? count.i : -1, budget));
    }
    if (name == "split" || name == "rsplit") {
      List out;
      const Value& limit_v = arg(args, kwargs, 1, "maxsplit");
      int64_t limit = limit_v.kind == K::Int ? limit_v.i : -1;
      if (a0.kind == K::String) {
        if (a0.s.empty()) throw Fault("split: empty separator");
        if (name == "rsplit" && limit >= 0) throw Fault("rsplit with maxsplit is not supported");
        size_t pos = 0;
        for (size_t at; limit != 0 && (at = s.find(a0.s, pos)) != std::string::npos; --limit) {
          budget.spend(1);
          out.push_back(Value::string(s.substr(pos, at - pos)));
          pos = at + a0.s.size();
        }
        out.push_back(Value::string(s.substr(pos)));
      } else {
        size_t pos = 0;
        for (;;) {
          while (pos < s.size() && std::string(kSpace).find(s[pos]) != std::string::npos) ++pos;
          if (pos >= s.size()) break;
          if (limit == 0) {
            out.push_back(Value::string(strip(s.substr(pos), kSpace, false, true)));
            break;
          }
          size_t end = pos;
          while (end < s.size() && std::string(kSpace).find(s[end]) == std::string::npos) ++end;
          budget.spend(1);
          out.push_back(Value::string(s.substr(pos, end - pos)));
          pos = end;
          --limit;
        }
      }
      return Value::list_of(std::move(out));
    }
    if (name == "find") {
      const size_t at = s.find(need_string(a0, "find"));
      return Value::integer(at == std::string::npos ? -1 : static_cast<int64_t>(at));
    }
    if (name == "count") {
      const std::string x = need_string(a0, "count");
      if (x.empty()) return Value::integer(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t at = s.find(x); at != std::string::npos; at = s.find(x, at + x.size())) ++n;
      return Value::integer(n);
    }
    if (name == "join") {
      std::string out;
      bool first = true;
      for (const Value& item : items_of(a0, "join", budget)) {
        if (!first) out += s;
        out += need_string(item, "str.join");
        budget.check_string(out.size());
        first = false;
      }
      return Value::string(out);
    }
    if (name == "format") {
      // "{}" and "{0}"-style fields with str() of the arguments; "{{" and "}}" are braces.
      std::string out;
      size_t next_arg = 0;
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] == '{' && k + 1 < s.size() && s[k + 1] == '{') { out += '{'; ++k; continue; }
        if (s[k] == '}' && k + 1 < s.size() && s[k + 1] == '}') { out += '}'; ++k; continue; }
        if (s[k] != '{') { out += s[k]; continue; }
        const size_t close = s.find('}', k);
        if (close == std::string::npos) throw Fault("format: a '{' is not closed");
        const std::string field = s.substr(k + 1, close - k - 1);
        const Value* value = nullptr;
        if (field.empty()) {
          if (next_arg < args.size()) value = &args[next_arg++];
        } else if (std::all_of(field.begin(), field.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
          const size_t at = std::strtoul(field.c_str(), nullptr, 10);
          if (at < args.size()) value = &args[at];
        } else {
          for (const auto& [key, x] : kwargs)
            if (key == field) value = &x;
        }
        if (!value) throw Fault("format: no argument for the field {" + field + "}");
        out += to_str(*value);
        budget.check_string(out.size());
        k = close;
      }
      return Value::string(out);
    }
  } else if (o.is_mapping()) {
    if (name == "items") return apply_filter("items", o, {}, {}, budget);
    if (name == "keys" || name == "values") {
      List out;
      budget.spend(o.dict->size());
      for (const auto& [k, x] : *o.dict) out.push_back(name == "keys" ? Value::string(k) : x);
      return Value::list_of(std::move(out));
    }
    if (name == "get") {
      const Value& key = arg(args, kwargs, 0, "key");
      const Value* hit = o.find(key.kind == K::String ? key.s : to_str(key));
      if (hit) return *hit;
      const Value& fallback = arg(args, kwargs, 1, "default");
      return fallback.kind == K::Undefined ? Value::none() : fallback;
    }
  } else if (o.kind == K::List) {
    if (name == "index") {
      for (size_t k = 0; k < o.list->size(); ++k)
        if (equal((*o.list)[k], arg(args, kwargs, 0, ""))) return Value::integer(static_cast<int64_t>(k));
      throw Fault("index: the value is not in the list");
    }
    if (name == "count") {
      int64_t n = 0;
      for (const Value& x : *o.list) n += equal(x, arg(args, kwargs, 0, ""));
      return Value::integer(n);
    }
  }
  *found = false;
  return Value();
}

}  // namespace memtx::data::jinja
