// io/safetensors.cpp: strict safetensors reader and atomic writer (POSIX I/O, nlohmann::json header).
// The reader validates the whole header (io/safetensors_header.cpp: sizes, types, dtypes, offsets, overlaps,
// gaps, duplicate keys) before touching tensor data, then reads each tensor straight into its own torch::empty
// storage.
#include "io/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");
#endif

namespace memtx::io {
namespace {

using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// The format's dtypes as torch types (io/safetensors_header.cpp knows their names and sizes).
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

std::string errno_str(int err) { return std::strerror(err); }

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

// Reads and validates the whole header of an open file.
SafetensorsHeader read_header(const std::string& path, int fd, uint64_t file_size) {
  if (file_size < 8)
    fail(path, "file too short (" + std::to_string(file_size) + " bytes) to hold the 8-byte header length");
  unsigned char len_bytes[8];
  if (!pread_all(fd, len_bytes, 8, 0, path)) fail(path, "file too short to hold the 8-byte header length");
  const uint64_t header_len = safetensors_header_length(path, len_bytes, file_size);
  std::string text(static_cast<size_t>(header_len), '\0');
  if (!pread_all(fd, text.data(), header_len, 8, path)) fail(path, "file ended inside the header");
  return parse_safetensors_header(path, text, file_size - 8 - header_len);
}

// The torch type of a dtype the header parser accepted.
torch::ScalarType torch_type(const SafetensorsDtype& dtype) {
  for (const auto& d : kDtypes)
    if (std::strcmp(dtype.name, d.name) == 0) return d.type;
  throw Error(StatusCode::Internal, std::string("safetensors dtype ") + dtype.name + " has no torch type");
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
  SafetensorsHeader h = read_header(path, fd.get(), file_size);

  SafetensorsFile out;
  out.metadata = std::move(h.metadata);
  out.tensors.reserve(h.entries.size());
  const uint64_t data_start = 8 + h.header_len;
  for (const SafetensorsEntry& e : h.entries) {
    const torch::ScalarType type = torch_type(*e.dtype);
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(type).device(torch::kCPU));
    const uint64_t nbytes = e.end - e.begin;
    if (nbytes > 0) {
      if (!pread_all(fd.get(), t.data_ptr(), nbytes, data_start + e.begin, path))
        fail(path, tensor_ctx(e.name) + "file ended while reading its data");
      if (type == torch::kBool) {
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
  SafetensorsHeader h = read_header(path, fd.get(), file_size);
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  out.reserve(h.entries.size());
  for (SafetensorsEntry& e : h.entries) out.emplace_back(std::move(e.name), std::move(e.shape));
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
