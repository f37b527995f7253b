// config/read_file.cpp: memtx::read_file and check_regular_file (memtx/read_file.hpp), bounded whole-file
// reads over POSIX open/fstat/read. Here because config is the lowest layer: every reader of libmemtx uses it.
#include "memtx/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "memtx/error.hpp"

namespace memtx {
namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

[[noreturn]] void fail(StatusCode code, const std::string& what, const std::string& path, const std::string& why) {
  throw Error(code, what + " " + quoted(path) + ": " + why);
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Refuses what is not a regular file, or one larger than max_bytes; returns its size.
uint64_t checked_size(const struct stat& st, const std::string& path, const std::string& what, uint64_t max_bytes) {
  if (!S_ISREG(st.st_mode))
    fail(StatusCode::Io, what, path, std::string("is ") + kind_of(st.st_mode) + ", not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes)
    fail(StatusCode::Io, what, path,
         std::to_string(size) + " bytes, more than the limit of " + byte_size_text(max_bytes) + " for a " + what);
  return size;
}

[[noreturn]] void fail_errno(const std::string& what, const std::string& path, const char* action, int err) {
  if (err == ENOENT || err == ENOTDIR) fail(StatusCode::NotFound, what, path, "no such file");
  fail(StatusCode::Io, what, path, std::string(action) + ": " + std::strerror(err));
}

// Closes the descriptor on every way out.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

std::string byte_size_text(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  uint64_t unit = 1024;
  std::string best = std::to_string(bytes) + " bytes";
  for (const char* name : kUnits) {
    if (bytes < unit || bytes % unit != 0) break;
    best = std::to_string(bytes / unit) + " " + name;
    unit *= 1024;
  }
  return best;
}

uint64_t check_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail_errno(what, path, "cannot read its status", errno);
  return checked_size(st, path, what, max_bytes);
}

std::string read_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO without a writer must not wait; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail_errno(what, path, "cannot open", errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno(what, path, "cannot read its status", errno);
  const uint64_t size = checked_size(st, path, what, max_bytes);

  std::string text;
  text.reserve(static_cast<size_t>(size));
  char buffer[1 << 16];
  for (;;) {  // to the end of the file, which may differ from st_size (a file growing, /proc files)
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(what, path, "read error", errno);
    if (n == 0) break;
    if (text.size() + static_cast<uint64_t>(n) > max_bytes)
      fail(StatusCode::Io, what, path, "more than the limit of " + byte_size_text(max_bytes) + " for a " + what);
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace memtx
