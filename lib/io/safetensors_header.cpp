// io/safetensors_header.cpp: the safetensors header parser (see safetensors_header.hpp): a SAX pass that stops
// at the first duplicate key, too deep nesting or too many entries, then nlohmann::json's DOM parse, then each
// entry's checks and the tiling of the data area. No LibTorch, no file I/O.
#include "io/safetensors_header.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace memtx::io {
namespace {

// The header is parsed into nlohmann::json (a std::map per object: O(log n) an insertion, where ordered_json's
// linear search made a header of n entries cost O(n^2)); the order of the entries is kept separately.
using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// A valid header nests three levels (the header object, an entry, its shape or data_offsets array); a little
// more is parsed so that a mistyped field gets its own message.
constexpr int kMaxJsonDepth = 8;
// Dimensions of one tensor.
constexpr size_t kMaxDims = 64;

constexpr SafetensorsDtype kDtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(StatusCode::Io, path + ": " + what);
}

std::string quote(const std::string& name) { return "'" + name + "'"; }
std::string tensor_ctx(const std::string& name) { return "tensor " + quote(name) + ": "; }

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

// A parsed header: the JSON and its top-level keys in the order the file gives them.
struct ParsedHeader {
  Json json;
  std::vector<std::string> order;
};

// Thrown by HeaderScan to stop at the first defect (nlohmann's SAX parser lets it through).
struct HeaderDefect {
  std::string message;
};

// A first pass over the header's JSON events (nlohmann's SAX interface; nothing is built) that stops at the
// first duplicate key in any object (the DOM parser would silently keep the last), nesting deeper than
// kMaxJsonDepth, or more than kMaxSafetensorsTensors entries, and records the order of the top-level keys.
// (nlohmann's parse callback cannot do this: it rescans the parent object after each child object, O(n^2).)
class HeaderScan : public nlohmann::json_sax<Json> {
 public:
  std::vector<std::string> order;  // top-level keys in file order

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open(true);
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    open(false);
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool key(string_t& key) override {
    Frame& top = frames_.back();
    if (!top.keys.insert(key).second) duplicate(key);
    if (frames_.size() == 1) {
      if (key != kMetadataKey && ++tensors_ > kMaxSafetensorsTensors)
        throw HeaderDefect{"more than " + std::to_string(kMaxSafetensorsTensors) + " tensors, the limit of a file"};
      order.push_back(key);
    }
    top.last_key = key;
    return true;
  }
  // A syntax error: stop here; the DOM parse that follows reports it with nlohmann's message.
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {  // an open object or array
    std::set<std::string> keys;
    std::string last_key;
  };

  void open(bool object) {
    if (frames_.size() >= static_cast<size_t>(kMaxJsonDepth))
      throw HeaderDefect{"header nested more than " + std::to_string(kMaxJsonDepth) +
                         " levels deep (a valid one nests 3)"};
    if (frames_.empty()) root_is_object_ = object;
    frames_.emplace_back();
  }
  [[noreturn]] void duplicate(const std::string& key) const {
    if (!root_is_object_) throw HeaderDefect{"header is not a JSON object (it is a JSON array)"};
    if (frames_.size() == 1)
      throw HeaderDefect{key == kMetadataKey ? "duplicate '__metadata__' entry"
                                             : "duplicate tensor name " + quote(key)};
    if (frames_.size() == 2 && frames_[0].last_key == kMetadataKey)
      throw HeaderDefect{"__metadata__: duplicate key " + quote(key)};
    if (frames_.size() == 2) throw HeaderDefect{tensor_ctx(frames_[0].last_key) + "duplicate field " + quote(key)};
    throw HeaderDefect{"duplicate key " + quote(key) + " in a nested object"};
  }

  std::vector<Frame> frames_;
  bool root_is_object_ = false;
  size_t tensors_ = 0;
};

// Scans, then parses the header text: both passes linear in its length.
ParsedHeader parse_header_json(const std::string& path, const std::string& text) {
  ParsedHeader out;
  try {
    HeaderScan scan;
    if (Json::sax_parse(text.begin(), text.end(), &scan)) out.order = std::move(scan.order);
    out.json = Json::parse(text.begin(), text.end());  // comments stay invalid
  } catch (const HeaderDefect& d) {
    fail(path, d.message);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  return out;
}

// Non-negative JSON integer -> uint64; anything else (negative, float, string...) -> false.
bool as_uint(const Json& v, uint64_t& out) {
  if (!v.is_number_unsigned()) return false;
  out = v.get<uint64_t>();
  return true;
}

const char* json_type(const Json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) return "float";
  return v.type_name();
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const Json& v, uint64_t data_size) {
  const std::string ctx = tensor_ctx(name);
  if (!v.is_object()) fail(path, ctx + "entry is a JSON " + v.type_name() + ", not an object");
  for (const auto& item : v.items()) {
    const std::string& k = item.key();
    if (k != "dtype" && k != "shape" && k != "data_offsets") fail(path, ctx + "unknown field " + quote(k));
  }
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) fail(path, ctx + "missing '" + k + "'");

  SafetensorsEntry e;
  e.name = name;
  const Json& dt = v["dtype"];
  if (!dt.is_string()) fail(path, ctx + "'dtype' is a JSON " + json_type(dt) + ", not a string");
  const std::string dtype_name = dt.get<std::string>();
  e.dtype = safetensors_dtype(dtype_name);
  if (!e.dtype) fail(path, ctx + "unsupported dtype " + quote(dtype_name));

  const Json& sh = v["shape"];
  if (!sh.is_array()) fail(path, ctx + "'shape' is a JSON " + json_type(sh) + ", not an array");
  if (sh.size() > kMaxDims)
    fail(path, ctx + "shape has " + std::to_string(sh.size()) + " dimensions, more than the limit of " +
                   std::to_string(kMaxDims));
  for (const auto& d : sh) {
    uint64_t dim = 0;
    if (d.is_number_integer() && !d.is_number_unsigned())
      fail(path, ctx + "negative dimension " + std::to_string(d.get<int64_t>()) + " in shape");
    if (!as_uint(d, dim)) fail(path, ctx + "shape dimension is a JSON " + json_type(d) + ", not a non-negative integer");
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, ctx + "shape dimension " + std::to_string(dim) + " is too large");
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  // numel, overflow-safe; the product of the non-zero dims must also fit int64 so that torch's contiguous
  // strides cannot overflow.
  uint64_t numel_nonzero = 1;
  bool any_zero = false;
  for (int64_t dim : e.shape) {
    if (dim == 0) {
      any_zero = true;
    } else if (__builtin_mul_overflow(numel_nonzero, static_cast<uint64_t>(dim), &numel_nonzero) ||
               numel_nonzero > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(path, ctx + "shape " + shape_str(e.shape) + " has too many elements");
    }
  }
  const uint64_t numel = any_zero ? 0 : numel_nonzero;
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, e.dtype->size, &nbytes))
    fail(path, ctx + dtype_name + " " + shape_str(e.shape) + " is too large");

  const Json& off = v["data_offsets"];
  if (!off.is_array()) fail(path, ctx + "'data_offsets' is a JSON " + json_type(off) + ", not an array");
  if (off.size() != 2) fail(path, ctx + "'data_offsets' has " + std::to_string(off.size()) + " elements, not 2");
  if (!as_uint(off[0], e.begin) || !as_uint(off[1], e.end))
    fail(path, ctx + "'data_offsets' must be two non-negative integers");
  const std::string range = "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ")";
  if (e.begin > e.end) fail(path, ctx + range + ": begin is after end");
  if (e.end > data_size)
    fail(path, ctx + range + " lie outside the data area of " + std::to_string(data_size) + " bytes");
  if (e.end - e.begin != nbytes)
    fail(path, ctx + range + " but " + dtype_name + " " + shape_str(e.shape) + " needs " + std::to_string(nbytes) +
                   " bytes");
  return e;
}

}  // namespace

const SafetensorsDtype* safetensors_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

uint64_t safetensors_header_length(const std::string& path, const unsigned char (&len_bytes)[8], uint64_t file_size) {
  if (file_size < 8)
    fail(path, "file too short (" + std::to_string(file_size) + " bytes) to hold the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > kMaxSafetensorsHeaderBytes)
    fail(path, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                   std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (header_len > file_size - 8)
    fail(path, "header length " + std::to_string(header_len) + " exceeds the file size (" +
                   std::to_string(file_size) + " bytes)");
  return header_len;
}

SafetensorsHeader parse_safetensors_header(const std::string& path, const std::string& text, uint64_t data_size) {
  SafetensorsHeader h;
  h.header_len = text.size();
  h.data_size = data_size;
  const ParsedHeader parsed = parse_header_json(path, text);
  const Json& j = parsed.json;
  if (!j.is_object()) fail(path, std::string("header is not a JSON object (it is a JSON ") + j.type_name() + ")");

  h.entries.reserve(parsed.order.size());
  for (const std::string& name : parsed.order) {  // header order: ties of the sort below keep it
    const Json& v = j.find(name).value();
    if (name == kMetadataKey) {
      if (!v.is_object()) fail(path, std::string("__metadata__ is a JSON ") + v.type_name() + ", not an object");
      for (const auto& m : v.items()) {
        if (!m.value().is_string())
          fail(path, "__metadata__: value of " + quote(m.key()) + " is a JSON " + json_type(m.value()) +
                         ", not a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    h.entries.push_back(parse_entry(path, name, v, h.data_size));
  }

  // File order; ties (zero-sized tensors at the same offset) keep header order.
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const SafetensorsEntry& e : h.entries) {
    if (e.begin < cursor)
      fail(path, "tensors " + quote(prev->name) + " [" + std::to_string(prev->begin) + ", " + std::to_string(prev->end) +
                     ") and " + quote(e.name) + " [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                     ") overlap");
    if (e.begin > cursor)
      fail(path, "gap in the data area: bytes [" + std::to_string(cursor) + ", " + std::to_string(e.begin) +
                     ") before tensor " + quote(e.name) + " belong to no tensor");
    cursor = e.end;
    prev = &e;
  }
  if (cursor != h.data_size)
    fail(path, "unclaimed bytes in the data area: bytes [" + std::to_string(cursor) + ", " +
                   std::to_string(h.data_size) + ") after the last tensor belong to no tensor");
  return h;
}

}  // namespace memtx::io
