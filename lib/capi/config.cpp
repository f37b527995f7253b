// capi/config.cpp: configuration calls of the C API.
#include <nlohmann/json.hpp>
#include <optional>

#include "capi/handles.hpp"
#include "model/adapter.hpp"
#include "model/model_spec.hpp"
#include "train/trainer.hpp"

using namespace memtx::capi;

namespace {

nlohmann::ordered_json schema_json_value(const memtx::Value& v) {
  switch (v.type()) {
    case memtx::ValueType::Null: return nullptr;
    case memtx::ValueType::Bool: return v.as_bool();
    case memtx::ValueType::Int: return v.as_int();
    case memtx::ValueType::Float: return v.as_float();
    case memtx::ValueType::String: return v.as_string();
    case memtx::ValueType::IntList: return v.as_int_list();
    case memtx::ValueType::StringList: return v.as_string_list();
  }
  return nullptr;
}

}  // namespace

extern "C" {

memtx_status* memtx_config_create(memtx_context* ctx, memtx_config** out) {
  return guarded("memtx_config_create", [&] {
    require(ctx, "memtx_config_create", "ctx");
    require(out, "memtx_config_create", "out");
    *out = new memtx_config(memtx::Config(ctx->registry.schema()), ctx);
  });
}

memtx_status* memtx_config_load(memtx_context* ctx, const char* path, memtx_config** out) {
  return guarded("memtx_config_load", [&] {
    require(ctx, "memtx_config_load", "ctx");
    require(path, "memtx_config_load", "path");
    require(out, "memtx_config_load", "out");
    *out = nullptr;
    *out = new memtx_config(memtx::Config::from_file(ctx->registry.schema(), path), ctx);
  });
}

memtx_status* memtx_config_parse(memtx_context* ctx, const char* text, memtx_config** out) {
  return guarded("memtx_config_parse", [&] {
    require(ctx, "memtx_config_parse", "ctx");
    require(text, "memtx_config_parse", "text");
    require(out, "memtx_config_parse", "out");
    *out = nullptr;
    *out = new memtx_config(memtx::Config::from_string(ctx->registry.schema(), text, "<text>"), ctx);
  });
}

void memtx_config_free(memtx_config* cfg) { delete cfg; }

memtx_status* memtx_config_set(memtx_config* cfg, const char* key, const char* value) {
  return guarded("memtx_config_set", [&] {
    require(cfg, "memtx_config_set", "cfg");
    require(key, "memtx_config_set", "key");
    require(value, "memtx_config_set", "value");
    std::unique_lock<std::shared_mutex> lock(cfg->mutex);
    cfg->config.set_from_string(cfg->config.schema().resolve_key(key), value);
  });
}

memtx_status* memtx_config_get(const memtx_config* cfg, const char* key, char** out_value) {
  return guarded("memtx_config_get", [&] {
    if (out_value) *out_value = nullptr;  // NULL unless the call succeeds
    require(cfg, "memtx_config_get", "cfg");
    require(key, "memtx_config_get", "key");
    require(out_value, "memtx_config_get", "out_value");
    std::shared_lock<std::shared_mutex> lock(cfg->mutex);
    *out_value = copy_string(cfg->config.get(cfg->config.schema().resolve_key(key)).to_string());
  });
}

memtx_status* memtx_config_validate(const memtx_config* cfg) {
  return guarded("memtx_config_validate", [&] {
    require(cfg, "memtx_config_validate", "cfg");
    // Everything model creation and training would refuse before touching data, in their order: unknown
    // variants, keys without effect, the schema's rules (ModelSpec::from_config runs validate()), missing
    // plugins, devices not present, unsupported training settings.
    // An adapter config whose base folder is absent is checked as written, then refused for the folder.
    const memtx::Config config = cfg->snapshot();
    std::optional<memtx::Config> resolved;
    std::optional<memtx::Error> missing_base;
    try {
      resolved = memtx::resolve_base_model_config(config);
    } catch (const memtx::Error& e) {
      if (e.code() != memtx::StatusCode::NotFound) throw;
      missing_base = e;
    }
    memtx::ModelSpec::from_config(resolved ? *resolved : config, cfg->context->registry);
    memtx::train::check_training_config(config);
    if (missing_base) throw *missing_base;
  });
}

memtx_status* memtx_config_dump(const memtx_config* cfg, int as_json, char** out_text) {
  return guarded("memtx_config_dump", [&] {
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    require(cfg, "memtx_config_dump", "cfg");
    require(out_text, "memtx_config_dump", "out_text");
    std::shared_lock<std::shared_mutex> lock(cfg->mutex);
    *out_text = copy_string(as_json ? cfg->config.to_json() : cfg->config.to_yaml());
  });
}

memtx_status* memtx_config_schema(memtx_context* ctx, char** out_json) {
  return guarded("memtx_config_schema", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(ctx, "memtx_config_schema", "ctx");
    require(out_json, "memtx_config_schema", "out_json");
    nlohmann::ordered_json keys = nlohmann::ordered_json::array();
    for (const auto& def : ctx->registry.schema()->options()) {
      nlohmann::ordered_json entry;
      entry["key"] = def.key;
      entry["type"] = memtx::value_type_name(def.type);
      entry["default"] = schema_json_value(def.default_value);
      entry["nullable"] = def.nullable;
      if (!def.choices.empty()) entry["choices"] = def.choices;
      entry["doc"] = def.doc;
      keys.push_back(std::move(entry));
    }
    *out_json = copy_string(json_text(keys, -1));
  });
}

memtx_status* memtx_config_reference(memtx_context* ctx, char** out_markdown) {
  return guarded("memtx_config_reference", [&] {
    if (out_markdown) *out_markdown = nullptr;  // NULL unless the call succeeds
    require(ctx, "memtx_config_reference", "ctx");
    require(out_markdown, "memtx_config_reference", "out_markdown");
    *out_markdown = copy_string(ctx->registry.schema()->markdown_reference());
  });
}

}  // extern "C"
