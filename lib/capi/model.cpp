// capi/model.cpp: model creation, description, weights, forward and fixture checks of the C API.
#include <filesystem>

#include "capi/handles.hpp"
#include "model/finite_weights.hpp"
#include "model/hf_import.hpp"
#include "model/lora.hpp"
#include "model/model_file.hpp"

using namespace memtx::capi;

extern "C" {

memtx_status* memtx_model_create(memtx_context* ctx, const memtx_config* cfg, memtx_model** out) {
  return guarded("memtx_model_create", [&] {
    require(ctx, "memtx_model_create", "ctx");
    require(cfg, "memtx_model_create", "cfg");
    require(out, "memtx_model_create", "out");
    *out = nullptr;
    auto model = std::make_unique<memtx_model>();
    model->context = ctx;
    const memtx::Config config = cfg->snapshot();
    model->model = memtx::Transformer(config, ctx->registry);
    if (const auto base = config.get_opt_string("model.base_model_name"))  // weights read from a folder
      memtx::check_finite_weights(*model->model, *base);
    model->model->eval();
    *out = model.release();
  });
}

memtx_status* memtx_model_load_hf(memtx_context* ctx, const char* dir, memtx_model** out) {
  return guarded("memtx_model_load_hf", [&] {
    require(ctx, "memtx_model_load_hf", "ctx");
    require(dir, "memtx_model_load_hf", "dir");
    require(out, "memtx_model_load_hf", "out");
    *out = nullptr;
    auto model = std::make_unique<memtx_model>();
    model->context = ctx;
    model->model = memtx::load_hf_model(dir, ctx->registry);
    memtx::check_finite_weights(*model->model, dir);
    // The folder's own tokenizer, when it has one (else model.tokenizer of the imported config).
    std::error_code ec;
    for (const char* file : {"tokenizer.json", "tokenizer.model"})
      if (std::filesystem::is_regular_file(std::filesystem::path(dir) / file, ec)) model->tokenizer_spec = dir;
    *out = model.release();
  });
}

void memtx_model_free(memtx_model* model) { delete model; }

memtx_status* memtx_model_describe(memtx_model* model, char** out_json) {
  return guarded("memtx_model_describe", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(model, "memtx_model_describe", "model");
    const auto pass = use_model(*model, "memtx_model_describe");
    require(out_json, "memtx_model_describe", "out_json");
    *out_json = copy_string(model->model->describe_json());
  });
}

memtx_status* memtx_model_config(memtx_model* model, memtx_config** out) {
  return guarded("memtx_model_config", [&] {
    require(model, "memtx_model_config", "model");
    const auto pass = use_model(*model, "memtx_model_config");
    require(out, "memtx_model_config", "out");
    *out = new memtx_config(model->model->config(), model->context);
  });
}

memtx_status* memtx_model_save_weights(memtx_model* model, const char* path) {
  return guarded("memtx_model_save_weights", [&] {
    require(model, "memtx_model_save_weights", "model");
    const auto pass = use_model(*model, "memtx_model_save_weights");
    require(path, "memtx_model_save_weights", "path");
    // The model file of a model folder (model/model_file.hpp), each tensor in its own dtype and the memory banks
    // as floats: the weights as the model holds them.
    memtx::ModelFileOptions options;
    options.precision = "";
    options.pack_memory = false;
    memtx::write_model_file(path, *model->model, options);
  });
}

memtx_status* memtx_model_load_weights(memtx_model* model, const char* path) {
  return guarded("memtx_model_load_weights", [&] {
    require(model, "memtx_model_load_weights", "model");
    const auto pass = use_model(*model, "memtx_model_load_weights");
    require(path, "memtx_model_load_weights", "path");
    memtx::load_model_file(*model->model, path);  // checks everything first, so a bad file changes nothing
  });
}

int64_t memtx_model_vocab_size(const memtx_model* model) { return model ? model->model->spec().vocab_size : 0; }

memtx_status* memtx_model_merge_lora(memtx_model* model) {
  return guarded("memtx_model_merge_lora", [&] {
    require(model, "memtx_model_merge_lora", "model");
    const auto pass = use_model(*model, "memtx_model_merge_lora");
    memtx::merge_lora(*model->model);
  });
}

memtx_status* memtx_forward(memtx_model* model, const int64_t* tokens, int64_t batch, int64_t seq_len,
                            float* out_logits, size_t out_capacity) {
  return guarded("memtx_forward", [&] {
    require(model, "memtx_forward", "model");
    const auto pass = use_model(*model, "memtx_forward");
    require(tokens, "memtx_forward", "tokens");
    require(out_logits, "memtx_forward", "out_logits");
    if (batch < 1 || seq_len < 1) {
      throw memtx::Error(memtx::StatusCode::InvalidArgument, "memtx_forward: batch and seq_len must be >= 1, got " +
                                                                 std::to_string(batch) + " x " + std::to_string(seq_len));
    }
    const int64_t vocab = model->model->spec().vocab_size;
    const size_t needed = static_cast<size_t>(batch * seq_len * vocab);
    if (out_capacity < needed) {
      throw memtx::Error(memtx::StatusCode::InvalidArgument, "memtx_forward: out_capacity " + std::to_string(out_capacity) +
                                                                 " floats, need batch*seq_len*vocab = " + std::to_string(needed));
    }
    torch::NoGradGuard no_grad;
    auto ids = torch::from_blob(const_cast<int64_t*>(tokens), {batch, seq_len}, torch::kLong).clone();
    auto logits = model->model->forward(ids).to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(out_logits, logits.data_ptr<float>(), needed * sizeof(float));
  });
}

memtx_status* memtx_check_fixture(memtx_context* ctx, const char* dir, char** out_json) {
  return guarded("memtx_check_fixture", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(ctx, "memtx_check_fixture", "ctx");
    require(dir, "memtx_check_fixture", "dir");
    require(out_json, "memtx_check_fixture", "out_json");
    *out_json = copy_string(memtx::check_fixture_json(dir, ctx->registry));
  });
}

}  // extern "C"
