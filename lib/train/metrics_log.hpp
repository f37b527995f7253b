// train/metrics_log.hpp: <output_dir>/metrics.jsonl, one JSON object per line, flushed as written:
//   {"type": "train", "step", "epoch", "loss", "lr", "grad_norm", "tokens_per_second", "tokens", "elapsed"}
//   {"type": "eval", "step", "eval_loss", "eval_perplexity", "eval_tokens"}
//   {"type": "event", "step", "event": "nonfinite" | "checkpoint" | "early_stop" | "cancelled", ...}
//   {"type": "layers", "step", "values": {"layers.<i>.attn.<name>": value}}  variants' diagnostics
//     (each layer every metrics_interval() steps; infini: infini_attention.logging, logging_interval: gate.head<h>, ...)
//   {"type": "router", "step", "values": {"layers.<i>.memory.<loss>": value}}  memory chapter routers, written
//     with each "train" record: load_balance, auxiliary, z_loss (unweighted), means over the window's forwards
//   (variants may add their own types, e.g. "infini"; readers skip types they do not know)
// A new run starts the file afresh; a resumed run keeps the records up to the checkpoint's step and drops
// the later ones that the interrupted run wrote, so the file reads as one uninterrupted run. That rewrite is
// atomic (io::atomic_write_text): a crash or a full disk during it leaves the old file, never a truncated one.
// Every write is checked: Error(Io) naming the file and the system's reason ("No space left on device").
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "memtx/export.h"

namespace memtx::train {

class MEMTX_API MetricsLog {
 public:
  // resume_step: nullopt = new run. Error(Io) naming the file when it cannot be written.
  MetricsLog(std::string path, std::optional<int64_t> resume_step);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;  // opened for appending
};

}  // namespace memtx::train
