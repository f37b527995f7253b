// model/hf_export.hpp: a memtx model written as a Hugging Face folder that transformers loads with
// AutoModelForCausalLM.from_pretrained and no custom code, and LoRA adapters as a PEFT adapter folder.
//   Exportable: models whose every layer is one variant that a transformers architecture computes
//   (hf_arch_*.cpp): causal -> Llama (no q/k/v bias) or Qwen2 (model.attention_bias), mla -> DeepSeek-V3 (dense
//   layers), ssm -> Mamba. Refused (Error(Config), naming the layers): other variants (infini, linear, co4,
//   plugins'), mixed variants, memory-token layers, and any setting config.json cannot express (the exported
//   config.json is read back with the importer; a key whose value comes back different is named).
//   Folder: config.json, model.safetensors (HF tensor names, metadata format=pt, the model's dtype), 
//   generation_config.json, the tokenizer files (hf_export_tokenizer.hpp). LoRA adapters are folded into the
//   written weights (the model is not changed), or left out (merge_adapters false: the base of a PEFT adapter).
//   Deterministic: the same model writes the same bytes, and export -> import -> export is byte-identical.
#pragma once
#include <string>
#include <vector>

#include "model/hf_arch.hpp"
#include "model/transformer.hpp"

namespace memtx {

// The architecture the model exports as, or Error(Config) saying why there is none.
MEMTX_API const HfArchitecture& hf_export_architecture(const TransformerImpl& model);

struct HfExportResult {
  std::string model_type;          // "llama", "qwen2", "deepseek_v3", "mamba"
  std::vector<std::string> files;  // the files written, in order
};

// Writes the folder (created when missing; files replaced atomically one by one). tokenizer_spec: the model's
// tokenizer (model.tokenizer, or the Hugging Face folder the model came from).
MEMTX_API HfExportResult save_hf_folder(TransformerImpl& model, const std::string& tokenizer_spec,
                                        const std::string& dir, bool merge_adapters = true);

// Writes adapter_config.json and adapter_model.safetensors (PEFT's LoRA format: tensors
// "base_model.model.<HF module>.lora_A.weight" [r, in] and ".lora_B.weight" [out, r], scale lora_alpha / r) into
// dir; base_model_name_or_path names the base. Error(InvalidArgument) when the model has no LoRA adapters.
MEMTX_API std::vector<std::string> save_peft_adapter(TransformerImpl& model, const std::string& dir,
                                                     const std::string& base_model_name_or_path);

}  // namespace memtx
