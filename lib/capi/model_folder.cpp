// capi/model_folder.cpp: memtx model folders (config.yaml + model.safetensors + manifest.json): memtx_model_save
// writes one; memtx_model_load reads one, or a training checkpoint. The files are checked against the folder's
// manifest (or a checkpoint's trainer_state.json record) before anything is read, and everything else before a
// model is returned.
#include <filesystem>

#include "capi/handles.hpp"
#include "io/file_util.hpp"
#include "model/folder_manifest.hpp"
#include "model/model_file.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"

using namespace memtx::capi;
namespace fs = std::filesystem;

namespace {

using memtx::io::path_in;

void require_file(const std::string& dir, const char* file, const char* hint) {
  std::error_code ec;
  if (!fs::is_regular_file(path_in(dir, file), ec))
    throw memtx::Error(memtx::StatusCode::NotFound,
                       "memtx_model_load: '" + path_in(dir, file) + "' is missing" + hint);
}

// model.tokenizer of a loaded folder: a relative path that names a file beside config.yaml is taken from
// there; "byte" and everything else stay as written.
std::string tokenizer_beside(const memtx::Config& config, const std::string& dir) {
  const std::string spec = config.get_string("model.tokenizer");
  std::error_code ec;
  if (spec == "byte" || fs::path(spec).is_absolute() || fs::exists(spec, ec)) return "";
  const fs::path beside = fs::path(dir) / spec;
  return fs::exists(beside, ec) ? beside.string() : "";
}

}  // namespace

extern "C" {

memtx_status* memtx_model_load(memtx_context* ctx, const char* dir, memtx_model** out) {
  return guarded("memtx_model_load", [&] {
    require(ctx, "memtx_model_load", "ctx");
    require(dir, "memtx_model_load", "dir");
    require(out, "memtx_model_load", "out");
    *out = nullptr;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw memtx::Error(memtx::StatusCode::NotFound, "memtx_model_load: model folder '" + std::string(dir) +
                                                          "' does not exist");
    const bool hf = fs::is_regular_file(path_in(dir, "config.json"), ec);
    require_file(dir, memtx::kConfigFile,
                 hf ? " (this looks like a Hugging Face folder: load it with memtx_model_load_hf)"
                    : " (a memtx model folder holds config.yaml and model.safetensors)");
    require_file(dir, memtx::kModelFile, " (a memtx model folder holds config.yaml and model.safetensors)");
    const bool checkpoint = fs::is_regular_file(path_in(dir, memtx::train::kTrainerStateFile), ec) &&
                            fs::is_regular_file(path_in(dir, memtx::train::kOptimizerFile), ec);
    // The digests first: a flipped byte is named as such, not as whatever the damaged file then says.
    if (checkpoint) memtx::train::verify_checkpoint_files(dir, /*with_optimizer=*/false);
    else memtx::verify_folder_manifest(dir, {memtx::kConfigFile, memtx::kModelFile});

    const std::string config_path = path_in(dir, memtx::kConfigFile);
    const memtx::Config config = memtx::Config::from_file(ctx->registry.schema(), config_path);
    auto model = std::make_unique<memtx_model>();
    model->context = ctx;
    model->model = memtx::Transformer(config, ctx->registry);
    if (checkpoint) {
      memtx::train::CheckpointLoadOptions options;
      options.restore_rng = false;
      options.files_verified = true;
      memtx::train::load_checkpoint(dir, config, *model->model, nullptr, {}, options);
    } else {
      memtx::load_model_file(*model->model, path_in(dir, memtx::kModelFile));
    }
    model->model->eval();
    model->tokenizer_spec = tokenizer_beside(config, dir);
    *out = model.release();
  });
}

memtx_status* memtx_model_save(memtx_model* model, const char* dir) {
  return guarded("memtx_model_save", [&] {
    require(model, "memtx_model_save", "model");
    const auto pass = use_model(*model, "memtx_model_save");
    require(dir, "memtx_model_save", "dir");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir, ec))
      throw memtx::Error(memtx::StatusCode::Io, "memtx_model_save: cannot create the folder '" + std::string(dir) +
                                                    "'" + (ec ? ": " + ec.message() : std::string()));
    // The saved config names the tokenizer the model uses (a Hugging Face folder's, or a file given by a
    // relative path) by its absolute path, so the folder loads from anywhere.
    memtx::Config config = model->model->config();
    const std::string spec = model_tokenizer_spec(*model);
    if (spec != "byte" && fs::exists(spec, ec)) config.set("model.tokenizer", fs::absolute(spec).lexically_normal().string());
    memtx::ModelFileOptions options;  // fp32, quantised memory banks packed
    options.precision = "fp32";
    memtx::save_model_folder(dir, *model->model, config, options);
  });
}

}  // extern "C"
