// train/metrics_log.cpp: the metrics JSON Lines file (see metrics_log.hpp).
#include "train/metrics_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include "io/file_util.hpp"
#include "memtx/error.hpp"

namespace memtx::train {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw Error(StatusCode::Io, "the metrics file " + path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

MetricsLog::MetricsLog(std::string path, std::optional<int64_t> resume_step) : path_(std::move(path)) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw Error(StatusCode::Io, "the metrics file " + path_ + ": cannot create its folder: " + ec.message());
  std::string kept;
  if (resume_step && std::filesystem::exists(path_, ec)) {
    std::istringstream in(io::read_text_file(path_));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      // A torn last line (the interrupted run died mid-write) or a later step is dropped.
      if (record.is_discarded() || !record.is_object()) continue;
      if (record.value("step", int64_t{0}) <= *resume_step) kept += line + "\n";
    }
  }
  // Replaced in one rename (a new run's empty file too), then appended to.
  io::atomic_write_text(path_, kept);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) fail(path_, "cannot open for appending", errno);
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsLog::write(const nlohmann::json& record) {
  // One write per record (O_APPEND): a crash tears at most the last line, which a resume drops.
  const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";  // paths need not be UTF-8
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(path_, "cannot write", n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
}

}  // namespace memtx::train
