// model/hf_import.hpp: builds a memtx model from a Hugging Face model folder (config.json plus
// model.safetensors or a sharded model.safetensors.index.json). Supported architectures: the table in
// hf_arch.cpp (Llama, Qwen2, ...). Weights are loaded by name; every memtx parameter must
// be found with the right shape and every tensor of the files must be used.
#pragma once
#include <filesystem>
#include <string>

#include "model/hf_arch.hpp"
#include "model/transformer.hpp"

namespace memtx {

// config.json -> memtx Config (schema from the registry). Throws Error(NotFound/Io/Config) naming the file.
// The weight files of a Hugging Face folder: model.safetensors, or the shards its model.safetensors.index.json
// names (sorted). Error(NotFound) when neither exists, Error(Io) for a malformed index.
MEMTX_API std::vector<std::filesystem::path> hf_weight_files(const std::filesystem::path& dir);
MEMTX_API Config hf_config_to_memtx(const std::string& dir, const Registry& registry, HfModelInfo* info = nullptr);
// The same over a given schema (every key the mapping sets is a built-in one).
MEMTX_API Config hf_config_to_memtx(const std::string& dir, std::shared_ptr<const Schema> schema,
                                    HfModelInfo* info = nullptr);
// HF tensor name -> memtx parameter name ("" when the tensor has no memtx counterpart, e.g. inv_freq).
MEMTX_API std::string hf_to_memtx_name(const std::string& hf_name, const HfModelInfo& info);
// Loads the folder's safetensors into the model (strict, by name). targets: the names of the parameters the
// folder must fill (adapter mode: the base model's, not the memory layers memtx adds); null: every parameter.
// Every tensor of the files must map onto a target, and every target must be filled, except the parameters of
// layers whose variant differs from the architecture's (returned: they stay as initialised). A missing weight
// of a layer of the architecture's own variant is Error(Io) naming the parameter and the folder.
MEMTX_API std::vector<NewParameter> load_hf_weights(TransformerImpl& model, const std::string& dir,
                                                    const HfModelInfo& info,
                                                    const std::vector<std::string>* targets = nullptr);
// Config + weights.
MEMTX_API Transformer load_hf_model(const std::string& dir, const Registry& registry, HfModelInfo* info = nullptr);

// Runs a HF folder's io.safetensors through memtx: every "<module>.in" is fed to the matching memtx module
// and its output compared with "<module>.out"; input_ids through the whole model compared with "logits".
// Returns the JSON report documented at memtx_check_fixture in memtx.h.
MEMTX_API std::string check_fixture_json(const std::string& dir, const Registry& registry, double module_tolerance = 1e-4,
                               double logits_tolerance = 2e-4);

}  // namespace memtx
