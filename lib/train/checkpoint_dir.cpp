// train/checkpoint_dir.cpp: listing, the latest pointer, find-latest and rotation of checkpoint folders.
#include "train/checkpoint_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/file_util.hpp"
#include "memtx/error.hpp"
#include "model/model_file.hpp"
#include "train/output_dir.hpp"

namespace memtx::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "checkpoint-";

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<name>-<pid>" -> pid when the text after the prefix is all digits; nullopt otherwise.
std::optional<long> pid_after(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string pid = name.substr(prefix.size());
  return all_digits(pid) ? std::optional<long>(std::stol(pid)) : std::nullopt;
}

// "checkpoint-<digits>.<tag>-<pid>" -> pid, for tag "tmp" or "old"; "final_model.<tag>-<pid>" (trainer.cpp's
// final model swap) likewise; "latest.tmp-<pid>" and "metrics.jsonl.tmp-<pid>" (atomic writes,
// io::atomic_write_text) and "write-probe.tmp-<pid>" (output_dir.hpp) -> pid; nullopt otherwise.
std::optional<long> temporary_pid(const std::string& name) {
  for (const std::string& prefix : {std::string(kLatestFile) + ".tmp-", std::string("metrics.jsonl.tmp-"),
                                    std::string(kWriteProbePrefix),
                                    std::string(kFinalModelDir) + ".tmp-", std::string(kFinalModelDir) + ".old-"})
    if (auto pid = pid_after(name, prefix)) return pid;
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  for (const char* tag : {".tmp-", ".old-"}) {
    const size_t at = name.find(tag);
    if (at == std::string::npos) continue;
    const std::string step = name.substr(std::char_traits<char>::length(kPrefix), at - std::char_traits<char>::length(kPrefix));
    const std::string pid = name.substr(at + 5);
    if (all_digits(step) && all_digits(pid)) return std::stol(pid);
  }
  return std::nullopt;
}

}  // namespace

std::string checkpoint_name(int64_t step) { return kPrefix + std::to_string(step); }

std::optional<int64_t> checkpoint_step(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const std::string digits = name.substr(std::char_traits<char>::length(kPrefix));
  if (!all_digits(digits)) return std::nullopt;
  return std::stoll(digits);
}

bool is_complete_checkpoint(const std::string& dir) {
  std::error_code ec;
  for (const char* f : {kConfigFile, kModelFile, kOptimizerFile, kTrainerStateFile})
    if (!fs::is_regular_file(fs::path(dir) / f, ec)) return false;
  return true;
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& output_dir) {
  std::vector<CheckpointEntry> out;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string name = entry.path().filename().string();
    if (auto step = checkpoint_step(name)) out.push_back({*step, name, entry.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.step < b.step; });
  return out;
}

void write_latest_pointer(const std::string& output_dir, const std::string& name) {
  io::atomic_write_text(io::path_in(output_dir, kLatestFile), name + "\n");
}

std::optional<std::string> read_latest_pointer(const std::string& output_dir) {
  std::string text;
  try {
    text = io::read_text_file(io::path_in(output_dir, kLatestFile));
  } catch (const Error&) {
    return std::nullopt;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (!checkpoint_step(text)) return std::nullopt;
  return text;
}

std::optional<std::string> find_latest_checkpoint(const std::string& output_dir) {
  std::optional<CheckpointEntry> best;
  for (const CheckpointEntry& e : list_checkpoints(output_dir))
    if (is_complete_checkpoint(e.path) && (!best || e.step > best->step)) best = e;
  // The pointer's target is one of the listed folders; it can only be older than the scan (after a crash
  // between the rename and the pointer update), never newer, so the scan decides.
  if (best) return best->path;
  if (auto name = read_latest_pointer(output_dir)) {
    const std::string path = io::path_in(output_dir, *name);
    if (is_complete_checkpoint(path)) return path;
  }
  return std::nullopt;
}

std::vector<std::string> rotate_checkpoints(const std::string& output_dir, std::optional<int64_t> keep,
                                            const std::string& protect) {
  if (keep && *keep < 1)
    throw Error(StatusCode::InvalidArgument, "training.save_total_limit " + std::to_string(*keep) + " is below 1");
  std::vector<std::string> deleted;
  if (!keep) return deleted;
  std::vector<CheckpointEntry> all = list_checkpoints(output_dir);
  const int64_t n = static_cast<int64_t>(all.size());
  for (int64_t i = 0; i < n - *keep; ++i) {  // the oldest n - keep
    const CheckpointEntry& e = all[static_cast<size_t>(i)];
    if (!protect.empty() && e.name == protect) continue;
    std::error_code ec;
    fs::remove_all(e.path, ec);
    if (ec) throw Error(StatusCode::Io, "'" + e.path + "': cannot remove old checkpoint: " + ec.message());
    deleted.push_back(e.name);
  }
  return deleted;
}

void move_folder_into_place(const std::string& tmp, const std::string& final_path) {
  auto fail = [](const std::error_code& ec, const std::string& path, const std::string& what) {
    if (ec) throw Error(StatusCode::Io, "'" + path + "': " + what + ": " + ec.message());
  };
  std::error_code ec;
  if (fs::exists(final_path, ec)) {
    const std::string old = final_path + ".old-" + std::to_string(::getpid());
    fs::remove_all(old, ec);
    fs::rename(final_path, old, ec);
    fail(ec, final_path, "cannot move the previous folder aside");
    fs::rename(tmp, final_path, ec);
    fail(ec, tmp, "cannot rename to '" + final_path + "'");
    fs::remove_all(old, ec);
  } else {
    fs::rename(tmp, final_path, ec);
    fail(ec, tmp, "cannot rename to '" + final_path + "'");
  }
  const fs::path parent = fs::path(final_path).parent_path();
  sync_folder(parent.empty() ? "." : parent.string());
}

void sync_folder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(StatusCode::Io, "'" + dir + "': cannot open the folder to sync it: " + std::strerror(err));
  }
  int err = 0;
  if (::fsync(fd) != 0 && errno != EINVAL) err = errno;
  ::close(fd);
  if (err) throw Error(StatusCode::Io, "'" + dir + "': cannot sync the folder: " + std::strerror(err));
}

std::vector<std::string> remove_stale_temporaries(const std::string& output_dir) {
  std::vector<std::string> deleted;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return deleted;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    const std::string name = entry.path().filename().string();
    auto pid = temporary_pid(name);
    if (!pid || *pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(*pid), 0) == 0 || errno != ESRCH) continue;  // running (or not ours to probe)
    stale.push_back(entry.path());
  }
  for (const fs::path& p : stale) {
    // A folder moved aside by move_folder_into_place whose replacement never arrived (killed between the two
    // renames) is the only copy: it goes back to its name rather than away.
    const std::string name = p.filename().string();
    const size_t old_at = name.rfind(".old-");
    if (old_at != std::string::npos) {
      const fs::path original = p.parent_path() / name.substr(0, old_at);
      if (!fs::exists(original, ec)) {
        fs::rename(p, original, ec);
        if (!ec) continue;
      }
    }
    fs::remove_all(p, ec);
    if (!ec) deleted.push_back(name);
  }
  return deleted;
}

}  // namespace memtx::train
