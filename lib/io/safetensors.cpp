// io/safetensors.cpp: strict safetensors reader and atomic writer (POSIX I/O, nlohmann::json header).
// The reader validates the whole header (sizes, types, dtypes, offsets, overlaps, gaps, duplicate keys)
// before touching tensor data, then reads each tensor straight into its own torch::empty storage.
#include "io/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");
#endif

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

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  uint64_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", torch::kDouble, 8}, {"F32", torch::kFloat, 4},  {"F16", torch::kHalf, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kLong, 8}, {"I32", torch::kInt, 4},
    {"I16", torch::kShort, 2},  {"I8", torch::kChar, 1},    {"U8", torch::kByte, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_type(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(StatusCode::Io, path + ": " + what);
}

[[noreturn]] void invalid(const std::string& path, const std::string& what) {
  throw Error(StatusCode::InvalidArgument, path + ": " + what);
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

std::string errno_str(int err) { return std::strerror(err); }

// One validated header entry.
struct Entry {
  std::string name;
  const DtypeInfo* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

struct Header {
  uint64_t header_len = 0;  // N: the JSON bytes after the 8-byte length
  uint64_t data_size = 0;   // bytes after the header
  std::vector<Entry> entries;  // sorted by offset
  std::map<std::string, std::string> metadata;
};

// A parsed header: the JSON and its top-level keys in the order the file gives them.
struct ParsedHeader {
  Json json;
  std::vector<std::string> order;
};

// Thrown by HeaderScan to stop at the first defect (nlohmann's SAX parser lets it through).
struct HeaderDefect {
  std::string message;
};

// Owns a file descriptor; closes it on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Reads exactly n bytes at offset; returns false on a short read (file shorter than expected).
bool pread_all(int fd, void* buf, uint64_t n, uint64_t offset, const std::string& path) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30));
    ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(path, "read error: " + errno_str(errno));
    }
    if (got == 0) return false;
    p += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

Fd open_for_reading(const std::string& path, uint64_t& file_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw Error(StatusCode::NotFound, "safetensors file not found: " + path);
    fail(path, "cannot open: " + errno_str(err));
  }
  Fd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, "cannot stat: " + errno_str(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  file_size = static_cast<uint64_t>(st.st_size);
  return Fd(owned.release());
}

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

Entry parse_entry(const std::string& path, const std::string& name, const Json& v, uint64_t data_size) {
  const std::string ctx = tensor_ctx(name);
  if (!v.is_object()) fail(path, ctx + "entry is a JSON " + v.type_name() + ", not an object");
  for (const auto& item : v.items()) {
    const std::string& k = item.key();
    if (k != "dtype" && k != "shape" && k != "data_offsets") fail(path, ctx + "unknown field " + quote(k));
  }
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) fail(path, ctx + "missing '" + k + "'");

  Entry e;
  e.name = name;
  const Json& dt = v["dtype"];
  if (!dt.is_string()) fail(path, ctx + "'dtype' is a JSON " + json_type(dt) + ", not a string");
  const std::string dtype_name = dt.get<std::string>();
  e.dtype = dtype_by_name(dtype_name);
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

// Reads and validates the whole header of an open file.
Header read_header(const std::string& path, int fd, uint64_t file_size) {
  Header h;
  if (file_size < 8)
    fail(path, "file too short (" + std::to_string(file_size) + " bytes) to hold the 8-byte header length");
  unsigned char len_bytes[8];
  if (!pread_all(fd, len_bytes, 8, 0, path)) fail(path, "file too short to hold the 8-byte header length");
  for (int i = 7; i >= 0; --i) h.header_len = (h.header_len << 8) | len_bytes[i];
  if (h.header_len > kMaxSafetensorsHeaderBytes)
    fail(path, "header length " + std::to_string(h.header_len) + " exceeds the limit of " +
                   std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (h.header_len > file_size - 8)
    fail(path, "header length " + std::to_string(h.header_len) + " exceeds the file size (" +
                   std::to_string(file_size) + " bytes)");
  h.data_size = file_size - 8 - h.header_len;

  std::string text(static_cast<size_t>(h.header_len), '\0');
  if (!pread_all(fd, text.data(), h.header_len, 8, path)) fail(path, "file ended inside the header");
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
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : h.entries) {
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

// write(2) until done; false on error (errno set).
bool write_all(int fd, const void* buf, uint64_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30));
    ssize_t put = ::write(fd, p, chunk);
    if (put < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += put;
    n -= static_cast<uint64_t>(put);
  }
  return true;
}

}  // namespace

std::string safetensors_dtype_name(torch::ScalarType type) {
  const DtypeInfo* d = dtype_by_type(type);
  return d ? d->name : c10::toString(type);
}

const torch::Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

SafetensorsFile read_safetensors(const std::string& path) {
  uint64_t file_size = 0;
  Fd fd = open_for_reading(path, file_size);
  Header h = read_header(path, fd.get(), file_size);

  SafetensorsFile out;
  out.metadata = std::move(h.metadata);
  out.tensors.reserve(h.entries.size());
  const uint64_t data_start = 8 + h.header_len;
  for (const Entry& e : h.entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type).device(torch::kCPU));
    const uint64_t nbytes = e.end - e.begin;
    if (nbytes > 0) {
      if (!pread_all(fd.get(), t.data_ptr(), nbytes, data_start + e.begin, path))
        fail(path, tensor_ctx(e.name) + "file ended while reading its data");
      if (e.dtype->type == torch::kBool) {
        const auto* b = static_cast<const unsigned char*>(t.data_ptr());
        for (uint64_t i = 0; i < nbytes; ++i)
          if (b[i] > 1) fail(path, tensor_ctx(e.name) + "BOOL byte " + std::to_string(b[i]) + " is neither 0 nor 1");
      }
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> read_safetensors_shapes(const std::string& path) {
  uint64_t file_size = 0;
  Fd fd = open_for_reading(path, file_size);
  Header h = read_header(path, fd.get(), file_size);
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  out.reserve(h.entries.size());
  for (Entry& e : h.entries) out.emplace_back(std::move(e.name), std::move(e.shape));
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Validate and make contiguous CPU copies before creating any file. The header text is built entry by entry
  // (linear in the number of tensors), metadata first as the reference implementation writes it.
  std::set<std::string> names;
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  std::string text = "{";
  auto append = [&](const std::string& key, const std::string& value_text) {
    if (text.size() > 1) text += ',';
    text += Json(key).dump();
    text += ':';
    text += value_text;
  };
  uint64_t offset = 0;
  try {
    if (!metadata.empty()) {
      Json meta = Json::object();
      for (const auto& [k, v] : metadata) meta[k] = v;
      append(kMetadataKey, meta.dump());
    }
    for (const auto& [name, tensor] : tensors) {
      if (name == kMetadataKey) invalid(path, "tensor name '__metadata__' is reserved");
      if (!names.insert(name).second) invalid(path, "duplicate tensor name " + quote(name));
      if (!tensor.defined()) invalid(path, tensor_ctx(name) + "undefined tensor");
      if (tensor.layout() != torch::kStrided) invalid(path, tensor_ctx(name) + "only dense (strided) tensors can be written");
      const DtypeInfo* dt = dtype_by_type(tensor.scalar_type());
      if (!dt) invalid(path, tensor_ctx(name) + "unsupported dtype " + std::string(c10::toString(tensor.scalar_type())));
      torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
      const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * dt->size;
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();  // dtype, shape, data_offsets
      entry["dtype"] = dt->name;
      entry["shape"] = t.sizes().vec();
      entry["data_offsets"] = {offset, offset + nbytes};
      append(name, entry.dump());
      offset += nbytes;
      data.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    invalid(path, std::string("a tensor name or metadata string is not valid UTF-8: ") + e.what());
  }
  text += '}';
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char len_bytes[8];
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>((len >> (8 * i)) & 0xff);

  const std::string tmp = path + ".tmp";
  int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (raw < 0) fail(path, "cannot open '" + tmp + "' for writing: " + errno_str(errno));
  Fd fd(raw);
  // On any failure: close, remove the partial temporary file, report errno.
  auto write_failed = [&](const std::string& what) {
    int err = errno;
    ::close(fd.release());
    ::unlink(tmp.c_str());
    fail(path, what + " '" + tmp + "': " + errno_str(err));
  };
  if (!write_all(fd.get(), len_bytes, 8) || !write_all(fd.get(), text.data(), text.size()))
    write_failed("cannot write");
  for (const torch::Tensor& t : data) {
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    if (nbytes > 0 && !write_all(fd.get(), t.data_ptr(), nbytes)) write_failed("cannot write");
  }
  if (::fsync(fd.get()) != 0) write_failed("cannot sync");
  if (::close(fd.release()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot close '" + tmp + "': " + errno_str(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot rename '" + tmp + "' to the destination: " + errno_str(err));
  }
}

}  // namespace memtx::io
