// train/checkpoint.cpp: save (temporary folder, manifest, rename, pointer, rotation) and validate-then-load.
#include "train/checkpoint.hpp"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>

#include "io/file_util.hpp"
#include "io/safetensors.hpp"
#include "model/folder_manifest.hpp"
#include "model/model_file.hpp"
#include "train/checkpoint_dir.hpp"
#include "train/optimizer_state.hpp"

namespace memtx::train {
namespace fs = std::filesystem;
namespace {

void fs_check(const std::error_code& ec, const std::string& path, const std::string& what) {
  if (ec) throw Error(StatusCode::Io, "'" + path + "': " + what + ": " + ec.message());
}

// The message of a save that failed: what was not saved, what still stands, and the cause (which names the file
// and the system's reason, e.g. "No space left on device" or "File too large").
std::string save_failure(const std::string& output_dir, const std::string& name, const std::string& cause) {
  std::string standing = "no earlier checkpoint";
  for (const CheckpointEntry& e : list_checkpoints(output_dir))
    if (e.name != name && is_complete_checkpoint(e.path)) standing = "the latest complete checkpoint is still " + e.name;
  return name + " was not saved (" + standing + "): " + cause;
}

void verify_digest(const TrainerStateFile& record, const std::string& dir, const char* file,
                   const std::string& state_path) {
  auto it = record.files.find(file);
  if (it == record.files.end())
    throw Error(StatusCode::Io, state_path + ": no size and digest recorded for '" + file + "'");
  const std::string path = io::path_in(dir, file);
  const io::FileDigest d = io::file_digest(path);
  if (d.bytes != it->second.bytes)
    throw Error(StatusCode::Io, path + ": " + std::to_string(d.bytes) + " bytes but trainer_state.json records " +
                                    std::to_string(it->second.bytes) + " (truncated or replaced)");
  if (d.hash != it->second.hash)
    throw Error(StatusCode::Io, path + ": content digest " + d.hash + " differs from the " + it->second.hash +
                                    " recorded in trainer_state.json (the file is corrupt)");
}

// The folder's own name when it is checkpoint-<step> ("x/checkpoint-30/" too); nullopt for any other name.
std::optional<int64_t> folder_step(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return checkpoint_step(p.filename().string());
}

Config read_saved_config(const Config& current, const std::string& path) {
  try {
    return Config::from_file(current.schema_ptr(), path);
  } catch (const Error& e) {
    if (e.code() == StatusCode::NotFound) throw;
    throw Error(StatusCode::Io, path + ": cannot be read as a memtx configuration: " + e.what());
  }
}

}  // namespace

std::string save_checkpoint(const std::string& output_dir, const Config& config, const torch::nn::Module& model,
                            const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                            const TrainerState& state) {
  ModelFileOptions model_file;
  model_file.precision = config.get_string("training.save_precision");
  model_file.pack_memory = false;  // the float master copy the optimizer updates, so a resume continues exactly
  model_file.manifest = false;     // one manifest over the four files, written below
  save_precision_dtype(model_file.precision);  // reject a bad precision before writing anything
  TrainerStateFile record;
  record.state = state;
  record.state.memtx_version = memtx_version_string();
  record.state.cpu_rng_state = capture_cpu_rng_state();
  record.state.cuda_rng_state = capture_cuda_rng_state();
  trainer_state_to_json(record);  // reject a bad state before writing anything

  std::error_code ec;
  fs::create_directories(output_dir, ec);
  fs_check(ec, output_dir, "cannot create the output folder");
  const std::string name = checkpoint_name(state.step);
  const std::string final_path = io::path_in(output_dir, name);
  const std::string tmp = final_path + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  fs_check(ec, tmp, "cannot create the temporary checkpoint folder");
  try {
    save_model_folder(tmp, model, config, model_file);  // config.yaml and model.safetensors
    io::write_safetensors(io::path_in(tmp, kOptimizerFile), optimizer_state_tensors(optimizer, groups),
                          optimizer_state_metadata(optimizer));
    for (const char* file : {kConfigFile, kModelFile, kOptimizerFile})
      record.files[file] = io::file_digest(io::path_in(tmp, file));
    io::atomic_write_text(io::path_in(tmp, kTrainerStateFile), trainer_state_to_json(record));
    std::map<std::string, io::FileDigest> sealed = record.files;
    sealed[kTrainerStateFile] = io::file_digest(io::path_in(tmp, kTrainerStateFile));
    write_folder_manifest(tmp, sealed);
    sync_folder(tmp);  // the four files' entries are durable before the folder gets its final name
    move_folder_into_place(tmp, final_path);  // syncs output_dir
  } catch (const Error& e) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw Error(e.code(), save_failure(output_dir, name, e.what()));
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  write_latest_pointer(output_dir, name);
  sync_folder(output_dir);
  const std::string protect = config.get_bool("training.save_best_model") ? state.best_checkpoint : "";
  rotate_checkpoints(output_dir, config.get_opt_int("training.save_total_limit"), protect);
  remove_stale_temporaries(output_dir);
  return final_path;
}

TrainerStateFile verify_checkpoint_files(const std::string& dir, bool with_optimizer) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(StatusCode::NotFound, "checkpoint folder '" + dir + "' does not exist");
  for (const char* file : {kConfigFile, kModelFile, kOptimizerFile, kTrainerStateFile})
    if (!fs::is_regular_file(io::path_in(dir, file), ec))
      throw Error(StatusCode::NotFound, "'" + io::path_in(dir, file) + "': checkpoint file is missing");

  std::vector<std::string> files = {kConfigFile, kModelFile, kTrainerStateFile};
  if (with_optimizer) files.push_back(kOptimizerFile);
  const bool sealed = verify_folder_manifest(dir, files);
  const std::string state_path = io::path_in(dir, kTrainerStateFile);
  TrainerStateFile record = parse_trainer_state(io::read_text_file(state_path), state_path);
  if (!sealed) {  // a checkpoint written before manifests: trainer_state.json's record of the other files
    verify_digest(record, dir, kConfigFile, state_path);
    verify_digest(record, dir, kModelFile, state_path);
    if (with_optimizer) verify_digest(record, dir, kOptimizerFile, state_path);
  }
  if (const auto step = folder_step(dir); step && *step != record.state.step)
    throw Error(StatusCode::Io, state_path + ": step " + std::to_string(record.state.step) + " but the folder is " +
                                    checkpoint_name(*step) +
                                    " (the file is corrupt or was copied from another checkpoint)");
  return record;
}

TrainerState load_checkpoint(const std::string& dir, const Config& config, torch::nn::Module& model,
                             torch::optim::Optimizer* optimizer, const std::vector<ParamGroup>& groups,
                             const CheckpointLoadOptions& options) {
  // 1. Read and check everything.
  const std::string state_path = io::path_in(dir, kTrainerStateFile);
  const TrainerStateFile record =
      options.files_verified ? parse_trainer_state(io::read_text_file(state_path), state_path)
                             : verify_checkpoint_files(dir, optimizer != nullptr);

  const std::string config_path = io::path_in(dir, kConfigFile);
  check_config_compatible(read_saved_config(config, config_path), config, config_path);

  const std::string model_path = io::path_in(dir, kModelFile);
  const io::SafetensorsFile weights = read_model_file(model, model_path);

  const std::string optimizer_path = io::path_in(dir, kOptimizerFile);
  io::SafetensorsFile opt_state;
  if (optimizer) {
    opt_state = io::read_safetensors(optimizer_path);
    check_optimizer_state(*optimizer, groups, opt_state.tensors, opt_state.metadata, optimizer_path);
  }
  if (options.restore_rng) check_cpu_rng_state(record.state.cpu_rng_state, state_path);

  // 2. Apply.
  load_model_tensors(model, weights.tensors, model_path);
  if (optimizer) restore_optimizer_state(*optimizer, groups, opt_state.tensors, opt_state.metadata, optimizer_path);
  if (options.restore_rng) {
    restore_cpu_rng_state(record.state.cpu_rng_state, state_path);
    restore_cuda_rng_state(record.state.cuda_rng_state, state_path);
  }
  return record.state;
}

}  // namespace memtx::train
