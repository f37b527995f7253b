// model/adapter.hpp: adapter mode and the additions memtx makes to a built model.
// Adapter mode (model.base_model_name = a local Hugging Face folder of a supported architecture: config.json and
// model.safetensors or a sharded model.safetensors.index.json): the folder's config.json fixes the architecture
// (its values replace the model/attention keys it maps, whatever the config file restates), its weights fill the
// base model (embeddings, every layer's norms, attention and MLP, the final norm, the head), freeze_base_model
// (default true) makes them untrainable, and memtx's additions stay trainable: the memory sublayers the config
// asks for and the LoRA adapters (model/lora.hpp). With zero-initialised additions (memory.wo_init_zero, LoRA's
// B = 0) the adapted model computes exactly the base model's logits.
// The tokenizer of an adapter model is the folder's (tokenizer.json or tokenizer.model) unless model.tokenizer is
// set explicitly.
#pragma once
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"

namespace memtx {

class TransformerImpl;

// The config a model is built from: config itself when model.base_model_name is null; otherwise config with the
// folder's architecture written over it, base_model_name made absolute, and model.tokenizer pointing at the
// folder (see above).
// Error(NotFound) when the folder or its config.json is missing, Error(Config) for an unsupported architecture.
MEMTX_API Config resolve_base_model_config(const Config& config);

// Names of the parameters a Hugging Face folder provides for this model: those of embed_tokens, norm, lm_head and
// every block's attn_norm, attn, mlp_norm and mlp (not the memory sublayers, not LoRA adapters).
MEMTX_API std::vector<std::string> base_parameter_names(const TransformerImpl& model);

// What identifies a base folder's content: "<file>:<bytes>:<digest>" for config.json and every weight file,
// joined by ';' (io/file_util.hpp's digest; reading the files once more).
MEMTX_API std::string base_model_fingerprint(const std::string& dir);

// Called once by the Transformer after its blocks are built and initialised: in adapter mode loads the base
// weights and, with freeze_base_model, sets requires_grad false on them and records the folder's fingerprint
// (TransformerImpl::base_fingerprint(), which model files then carry, so that loading them over a changed base
// folder is refused); then adds the LoRA adapters when lora_enabled(config).
MEMTX_API void attach_adapters(TransformerImpl& model);

}  // namespace memtx
