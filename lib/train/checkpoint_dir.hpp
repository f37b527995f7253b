// train/checkpoint_dir.hpp: the checkpoints of an output folder: names, the "latest" pointer, finding the
// newest complete checkpoint, and rotation.
//   <output_dir>/checkpoint-<step>/            a finished checkpoint (only ever created by a rename)
//   <output_dir>/checkpoint-<step>.tmp-<pid>/  one being written (left behind by a crash; never "latest")
//   <output_dir>/latest                        one line: the newest checkpoint's folder name (atomic write,
//                                              through "latest.tmp-<pid>")
// Complete = a folder named checkpoint-<digits> holding config.yaml, model.safetensors,
// optimizer.safetensors and trainer_state.json. find_latest_checkpoint returns the complete checkpoint
// with the highest step among the pointer's target and every folder found; the two agree except after a
// crash between the rename and the pointer update, when the folder scan is newer. Resuming from "latest"
// (load_latest_checkpoint, checkpoint.hpp) also checks the files, falling back past damaged checkpoints.
// Durability: every file is fsync'ed before its rename (io/file_util.hpp, io/safetensors.hpp), and save syncs
// the checkpoint folder before its rename and the output folder after it and after the pointer update
// (sync_folder), so that after a power loss the pointer never names a folder whose entries were lost.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtx/export.h"

namespace memtx::train {

// A checkpoint is a model folder (model/model_file.hpp: kConfigFile, kModelFile) plus these files.
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kTrainerStateFile = "trainer_state.json";
constexpr const char* kLatestFile = "latest";
constexpr const char* kFinalModelDir = "final_model";  // the model folder written at the end of a run

struct CheckpointEntry {
  int64_t step = 0;
  std::string name;  // "checkpoint-<step>"
  std::string path;  // output_dir/name
};

MEMTX_API std::string checkpoint_name(int64_t step);  // "checkpoint-<step>"
// The step of a name "checkpoint-<digits>", nullopt for any other name (tmp folders included).
MEMTX_API std::optional<int64_t> checkpoint_step(const std::string& name);
// True when dir holds the four checkpoint files.
MEMTX_API bool is_complete_checkpoint(const std::string& dir);
// Folders named checkpoint-<step> in output_dir (complete or not), by increasing step; empty when the folder
// does not exist.
MEMTX_API std::vector<CheckpointEntry> list_checkpoints(const std::string& output_dir);

MEMTX_API void write_latest_pointer(const std::string& output_dir, const std::string& checkpoint_name);
// The name in the pointer file, nullopt when it is absent or does not hold a checkpoint-<step> name.
MEMTX_API std::optional<std::string> read_latest_pointer(const std::string& output_dir);
// The path of the newest complete checkpoint, nullopt when there is none.
MEMTX_API std::optional<std::string> find_latest_checkpoint(const std::string& output_dir);

// Deletes checkpoint-<step> folders beyond the `keep` most recent (by step), never deleting `protect`
// (a folder name, e.g. the best checkpoint; "" for none). keep = nullopt keeps every folder. Returns the
// names deleted. Error(InvalidArgument) for keep < 1; Error(Io) when a folder cannot be removed.
MEMTX_API std::vector<std::string> rotate_checkpoints(const std::string& output_dir, std::optional<int64_t> keep,
                                                      const std::string& protect);

// Renames the finished folder tmp to final_path, replacing a folder of that name if there is one (moved aside to
// "<final_path>.old-<pid>" first, then removed), and syncs the parent folder. Error(Io) naming the folder.
MEMTX_API void move_folder_into_place(const std::string& tmp, const std::string& final_path);

// fsync of a folder, making the renames and creations in it durable. Error(Io) naming it when it cannot be
// opened or synced (a file system that cannot sync folders at all, EINVAL, is accepted).
MEMTX_API void sync_folder(const std::string& dir);

// Deletes "checkpoint-*.tmp-<pid>", "checkpoint-*.old-<pid>", "final_model.tmp-<pid>" and
// "final_model.old-<pid>" folders and "latest.tmp-<pid>", "metrics.jsonl.tmp-<pid>" and "write-probe.tmp-<pid>"
// files (train/output_dir.hpp)
// whose process is no longer running (left behind by a crash): after every save and when training starts.
// A ".old-<pid>" folder whose original name is free again (the process died between move_folder_into_place's
// two renames) is renamed back instead. Returns the names deleted.
MEMTX_API std::vector<std::string> remove_stale_temporaries(const std::string& output_dir);

}  // namespace memtx::train
