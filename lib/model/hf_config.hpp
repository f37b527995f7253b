// model/hf_config.hpp: a Hugging Face config.json, already parsed, mapped onto a memtx Config through the
// architecture table (model/hf_arch.hpp). No LibTorch and no file I/O: model/hf_import.cpp reads the file, and
// the fuzz target (fuzz/) feeds it text directly.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "memtx/config.hpp"
#include "model/hf_arch.hpp"

namespace memtx {

// config.json's document j -> memtx Config over schema (every key the mapping sets is a built-in one, or a key
// of the architecture's variant: Error(Plugin) naming it when the schema lacks it). Error(Config) naming file
// and the key for a missing, mistyped, lossy or out-of-bounds value or an unsupported model_type or feature.
// info (optional) receives the architecture's names.
Config hf_config_from_json(const nlohmann::json& j, const std::filesystem::path& file,
                           std::shared_ptr<const Schema> schema, HfModelInfo* info = nullptr);

}  // namespace memtx
