// capi/config.cpp: configuration calls of the C API.
#include "capi/handles.hpp"

using namespace memtx::capi;

extern "C" {

memtx_status* memtx_config_create(memtx_context* ctx, memtx_config** out) {
  return guarded("memtx_config_create", [&] {
    require(ctx, "memtx_config_create", "ctx");
    require(out, "memtx_config_create", "out");
    *out = new memtx_config(memtx::Config(ctx->registry.schema()));
  });
}

memtx_status* memtx_config_load(memtx_context* ctx, const char* path, memtx_config** out) {
  return guarded("memtx_config_load", [&] {
    require(ctx, "memtx_config_load", "ctx");
    require(path, "memtx_config_load", "path");
    require(out, "memtx_config_load", "out");
    *out = nullptr;
    *out = new memtx_config(memtx::Config::from_file(ctx->registry.schema(), path));
  });
}

memtx_status* memtx_config_parse(memtx_context* ctx, const char* text, memtx_config** out) {
  return guarded("memtx_config_parse", [&] {
    require(ctx, "memtx_config_parse", "ctx");
    require(text, "memtx_config_parse", "text");
    require(out, "memtx_config_parse", "out");
    *out = nullptr;
    *out = new memtx_config(memtx::Config::from_string(ctx->registry.schema(), text, "<text>"));
  });
}

void memtx_config_free(memtx_config* cfg) { delete cfg; }

memtx_status* memtx_config_set(memtx_config* cfg, const char* key, const char* value) {
  return guarded("memtx_config_set", [&] {
    require(cfg, "memtx_config_set", "cfg");
    require(key, "memtx_config_set", "key");
    require(value, "memtx_config_set", "value");
    cfg->config.set_from_string(cfg->config.schema().resolve_key(key), value);
  });
}

memtx_status* memtx_config_get(const memtx_config* cfg, const char* key, char** out_value) {
  return guarded("memtx_config_get", [&] {
    require(cfg, "memtx_config_get", "cfg");
    require(key, "memtx_config_get", "key");
    require(out_value, "memtx_config_get", "out_value");
    *out_value = copy_string(cfg->config.get(cfg->config.schema().resolve_key(key)).to_string());
  });
}

memtx_status* memtx_config_validate(const memtx_config* cfg) {
  return guarded("memtx_config_validate", [&] {
    require(cfg, "memtx_config_validate", "cfg");
    cfg->config.validate();
  });
}

memtx_status* memtx_config_dump(const memtx_config* cfg, int as_json, char** out_text) {
  return guarded("memtx_config_dump", [&] {
    require(cfg, "memtx_config_dump", "cfg");
    require(out_text, "memtx_config_dump", "out_text");
    *out_text = copy_string(as_json ? cfg->config.to_json() : cfg->config.to_yaml());
  });
}

memtx_status* memtx_config_reference(memtx_context* ctx, char** out_markdown) {
  return guarded("memtx_config_reference", [&] {
    require(ctx, "memtx_config_reference", "ctx");
    require(out_markdown, "memtx_config_reference", "out_markdown");
    *out_markdown = copy_string(ctx->registry.schema()->markdown_reference());
  });
}

}  // extern "C"
