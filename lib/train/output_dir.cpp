// train/output_dir.cpp: check_output_dir_writable, the write probe of training.output_dir (output_dir.hpp).
#include "train/output_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "memtx/error.hpp"

namespace memtx::train {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const std::string& dir, const std::string& what, const std::string& reason) {
  throw Error(StatusCode::Io, "training.output_dir '" + dir + "' " + what + ": " + reason +
                                  " (checkpoints, metrics and the final model are written there; nothing was trained)");
}

}  // namespace

void check_output_dir_writable(const std::string& output_dir) {
  if (output_dir.empty()) throw Error(StatusCode::Config, "training.output_dir is empty: name a folder to write to");
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) refuse(output_dir, "cannot be created", ec.message());
  if (!fs::is_directory(output_dir, ec)) refuse(output_dir, "is not a folder", "a file of that name exists");

  const std::string probe = (fs::path(output_dir) / (kWriteProbePrefix + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) refuse(output_dir, "is not writable (cannot create a file in it)", std::strerror(errno));
  const char byte = '\n';
  ssize_t put;
  do {
    put = ::write(fd, &byte, 1);
  } while (put < 0 && errno == EINTR);
  const int write_err = put == 1 ? 0 : (put < 0 ? errno : EIO);
  const int close_err = ::close(fd) == 0 ? 0 : errno;
  const int remove_err = ::unlink(probe.c_str()) == 0 ? 0 : errno;
  if (write_err) refuse(output_dir, "is not writable (cannot write a file in it)", std::strerror(write_err));
  if (close_err) refuse(output_dir, "is not writable (cannot close a file written in it)", std::strerror(close_err));
  if (remove_err) refuse(output_dir, "does not let memtx remove its files", std::strerror(remove_err));
}

}  // namespace memtx::train
