// train/checkpoint_resume.cpp: load_latest_checkpoint, "resume_from_checkpoint: latest" (checkpoint.hpp): the
// newest checkpoint that loads, falling back past damaged ones.
#include <algorithm>

#include "memtx/error.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"

namespace memtx::train {

ResumedCheckpoint load_latest_checkpoint(const std::string& output_dir, const Config& config,
                                         torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                                         const std::vector<ParamGroup>& groups, const CheckpointSkipped& on_skip) {
  std::vector<CheckpointEntry> candidates = list_checkpoints(output_dir);
  std::reverse(candidates.begin(), candidates.end());  // newest first
  std::string skipped;
  for (const CheckpointEntry& c : candidates) {
    if (!is_complete_checkpoint(c.path)) continue;  // a folder whose files were never all written
    try {
      // load_checkpoint checks everything before it changes anything, so a refused one leaves no trace.
      TrainerState state = load_checkpoint(c.path, config, model, optimizer, groups);
      return {c.path, std::move(state)};
    } catch (const Error& e) {
      if (e.code() != StatusCode::Io && e.code() != StatusCode::NotFound) throw;
      if (on_skip) on_skip(c.path, e.what());
      skipped += "; " + c.name + " skipped: " + e.what();
    }
  }
  throw Error(StatusCode::NotFound, "training.resume_from_checkpoint: latest, but " + output_dir +
                                        " holds no complete checkpoint that loads" + skipped);
}

}  // namespace memtx::train
