// capi/model_export.cpp: memtx_model_save_hf and memtx_model_save_peft (model/hf_export.hpp does the work).
#include <filesystem>

#include "capi/handles.hpp"
#include "model/hf_export.hpp"

using namespace memtx::capi;

extern "C" {

memtx_status* memtx_model_save_hf(memtx_model* model, const char* dir) {
  return guarded("memtx_model_save_hf", [&] {
    require(model, "memtx_model_save_hf", "model");
    require(dir, "memtx_model_save_hf", "dir");
    const auto pass = use_model(*model, "memtx_model_save_hf");
    memtx::save_hf_folder(*model->model, model_tokenizer_spec(*model), dir);
  });
}

memtx_status* memtx_model_save_peft(memtx_model* model, const char* adapter_dir, const char* base_dir) {
  return guarded("memtx_model_save_peft", [&] {
    require(model, "memtx_model_save_peft", "model");
    require(adapter_dir, "memtx_model_save_peft", "adapter_dir");
    const auto pass = use_model(*model, "memtx_model_save_peft");
    std::string base;
    const bool write_base = base_dir && *base_dir;  // "" (the bindings' empty string) = NULL
    if (write_base) {
      base = std::filesystem::absolute(base_dir).lexically_normal().string();
    } else if (const auto name = model->model->config().get_opt_string("model.base_model_name")) {
      base = *name;
    } else {
      throw memtx::Error(memtx::StatusCode::InvalidArgument,
                         "memtx_model_save_peft: the model has no model.base_model_name; pass base_dir to write its "
                         "base weights as a Hugging Face folder that the adapter names");
    }
    memtx::save_peft_adapter(*model->model, adapter_dir, base);  // checks for adapters before writing the base
    if (write_base) memtx::save_hf_folder(*model->model, model_tokenizer_spec(*model), base_dir, /*merge_adapters=*/false);
  });
}

}  // extern "C"
