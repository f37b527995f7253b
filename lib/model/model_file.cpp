// model/model_file.cpp: writing and reading memtx model folders (model_file.hpp).
#include "model/model_file.hpp"

#include <filesystem>
#include <map>
#include <optional>

#include "io/file_util.hpp"
#include "memtx.h"
#include "memtx/error.hpp"
#include "model/finite_weights.hpp"
#include "model/folder_manifest.hpp"

namespace memtx {
namespace fs = std::filesystem;
namespace {

constexpr const char* kVersion = MEMTX_VERSION_STRING;

}  // namespace

void write_model_file(const std::string& path, const torch::nn::Module& model, const ModelFileOptions& options) {
  std::optional<torch::ScalarType> dtype;
  if (!options.precision.empty()) dtype = save_precision_dtype(options.precision);
  auto metadata = model_file_metadata(model);
  metadata.insert({{"format", "memtx"}, {"memtx_version", kVersion}});
  if (!options.precision.empty()) metadata.insert({"save_precision", options.precision});
  io::write_safetensors(path, options.pack_memory ? model_tensors_for_export(model, dtype)
                                                  : model_tensors_for_save(model, dtype),
                        metadata);
}

void save_model_folder(const std::string& dir, const torch::nn::Module& model, const Config& config,
                       const ModelFileOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(StatusCode::Io, "'" + dir + "': cannot create the model folder: " + ec.message());
  write_model_file(io::path_in(dir, kModelFile), model, options);
  io::atomic_write_text(io::path_in(dir, kConfigFile), config.to_yaml());
  if (options.manifest) seal_folder(dir, {kConfigFile, kModelFile});
}

io::SafetensorsFile read_model_file(const torch::nn::Module& model, const std::string& path) {
  io::SafetensorsFile file = io::read_safetensors(path);
  check_model_file_metadata(model, file.metadata, path);
  check_model_tensors(model, file.tensors, path);
  check_finite_tensors(file.tensors, path);
  return file;
}

void load_model_file(torch::nn::Module& model, const std::string& path) {
  const io::SafetensorsFile file = io::read_safetensors(path);
  check_model_file_metadata(model, file.metadata, path);
  check_finite_tensors(file.tensors, path);
  load_model_tensors(model, file.tensors, path);  // checks every tensor before copying any
}

void load_model_folder_weights(torch::nn::Module& model, const std::string& dir) {
  verify_folder_manifest(dir, {kConfigFile, kModelFile});
  load_model_file(model, io::path_in(dir, kModelFile));
}

}  // namespace memtx
