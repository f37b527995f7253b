// train/metrics_log.cpp: the metrics JSON Lines file (see metrics_log.hpp).
#include "train/metrics_log.hpp"

#include <filesystem>
#include <sstream>
#include <vector>

#include "memtx/error.hpp"
#include "io/file_util.hpp"

namespace memtx::train {

MetricsLog::MetricsLog(std::string path, std::optional<int64_t> resume_step) : path_(std::move(path)) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::string kept;
  if (resume_step && std::filesystem::exists(path_)) {
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
  out_.open(path_, std::ios::out | std::ios::trunc);
  if (!out_) throw Error(StatusCode::Io, "cannot write the metrics file " + path_);
  out_ << kept;
  out_.flush();
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";  // paths need not be UTF-8
  out_.flush();
  if (!out_) throw Error(StatusCode::Io, "writing the metrics file " + path_ + " failed");
}

}  // namespace memtx::train
