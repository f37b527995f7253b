// io/file_util.cpp: atomic text writes (POSIX write + fsync + rename), reads, folder member paths and file digests.
#include "io/file_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "memtx/error.hpp"
#include "memtx/read_file.hpp"

namespace memtx::io {
namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what, int err) {
  throw Error(StatusCode::Io, "'" + path + "': " + what + ": " + std::strerror(err));
}

}  // namespace

void atomic_write_text(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail(path, "cannot create '" + tmp + "'", errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      io_fail(path, "cannot write '" + tmp + "'", err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    io_fail(path, "cannot sync '" + tmp + "'", err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    io_fail(path, "cannot rename '" + tmp + "' into place", err);
  }
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(StatusCode::NotFound, "'" + path + "': no such file");
  return read_file(path, "file", FileLimits::kText);  // no FIFO or device, at most 1 GiB
}

FileDigest file_digest(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) throw Error(StatusCode::NotFound, "'" + path + "': no such file");
    io_fail(path, "cannot open for reading", errno);
  }
  uint64_t h = 0xcbf29ce484222325ULL;
  uint64_t bytes = 0;
  std::vector<unsigned char> buf(1 << 20);
  size_t carry = 0;  // bytes of an incomplete word kept at the start of buf
  for (;;) {
    const size_t n = std::fread(buf.data() + carry, 1, buf.size() - carry, f);
    bytes += n;
    const size_t have = carry + n;
    const size_t words = have / 8;
    for (size_t w = 0; w < words; ++w) {
      uint64_t v = 0;
      for (int b = 7; b >= 0; --b) v = (v << 8) | buf[w * 8 + static_cast<size_t>(b)];
      h = (h ^ v) * 0x100000001b3ULL;
    }
    carry = have - words * 8;
    if (carry) std::memmove(buf.data(), buf.data() + words * 8, carry);
    if (n == 0) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error(StatusCode::Io, "'" + path + "': read error");
  if (carry) {
    uint64_t v = 0;
    for (size_t b = carry; b-- > 0;) v = (v << 8) | buf[b];
    h = (h ^ v) * 0x100000001b3ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return {bytes, hex};
}

std::string path_in(const std::string& dir, const std::string& file) {
  return (std::filesystem::path(dir) / file).string();
}

}  // namespace memtx::io
