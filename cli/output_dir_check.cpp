// cli/output_dir_check.cpp: the write probe of training.output_dir before a model is built (output_dir_check.hpp).
#include "output_dir_check.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli_common.hpp"

namespace memtx_cli {
namespace {

[[noreturn]] void refuse(const std::string& dir, const std::string& what, const std::string& reason) {
  throw CliError("[IO] training.output_dir '" + dir + "' " + what + ": " + reason +
                 " (checkpoints, metrics and the final model are written there; nothing was trained)");
}

}  // namespace

void check_output_dir_writable(const memtx_config* cfg) {
  if (const char* rank = std::getenv("RANK"); rank && std::string(rank) != "0") return;
  char* text = nullptr;
  check(memtx_config_get(cfg, "training.output_dir", &text));
  const std::string dir = take_string(text);
  if (dir.empty()) throw CliError("[CONFIG] training.output_dir is empty: name a folder to write to");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) refuse(dir, "cannot be created", ec.message());
  if (!std::filesystem::is_directory(dir, ec)) refuse(dir, "is not a folder", "a file of that name exists");
  const std::string probe = (std::filesystem::path(dir) / ("write-probe.tmp-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) refuse(dir, "is not writable (cannot create a file in it)", std::strerror(errno));
  ssize_t put;
  do {
    put = ::write(fd, "\n", 1);
  } while (put < 0 && errno == EINTR);
  const int write_err = put == 1 ? 0 : (put < 0 ? errno : EIO);
  const int close_err = ::close(fd) == 0 ? 0 : errno;
  ::unlink(probe.c_str());
  if (write_err) refuse(dir, "is not writable (cannot write a file in it)", std::strerror(write_err));
  if (close_err) refuse(dir, "is not writable (cannot close a file written in it)", std::strerror(close_err));
}

}  // namespace memtx_cli
