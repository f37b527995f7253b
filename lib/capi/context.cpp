// capi/context.cpp: contexts (the plugin registry) and plugin calls of the C API.
#include <iostream>

#include "capi/handles.hpp"

using namespace memtx::capi;

void memtx_context::log(int level, const std::string& line) {
  if (level > log_level.load()) return;
  std::lock_guard<std::mutex> lock(log_mutex);
  if (log_callback) log_callback(level, line.c_str(), log_user_data);
  else std::cerr << "memtx: " << line << "\n";
}

extern "C" {

void memtx_context_set_log_callback(memtx_context* ctx, memtx_log_callback cb, void* user_data) {
  if (!ctx) return;
  try {  // a void call: nothing may escape (locking can throw std::system_error)
    std::lock_guard<std::mutex> lock(ctx->log_mutex);
    ctx->log_callback = cb;
    ctx->log_user_data = user_data;
  } catch (...) {
  }
}

void memtx_context_set_log_level(memtx_context* ctx, int log_level) {
  if (ctx) ctx->log_level.store(log_level);
}

memtx_context_options memtx_context_default_options(void) {
  memtx_context_options options;
  options.load_default_plugins = 1;
  options.log_level = 1;
  return options;
}

memtx_status* memtx_context_create(const memtx_context_options* options_in, memtx_context** out) {
  return guarded("memtx_context_create", [&] {
    require(out, "memtx_context_create", "out");
    *out = nullptr;
    const memtx_context_options options = options_in ? *options_in : memtx_context_default_options();
    auto ctx = std::make_unique<memtx_context>();
    ctx->log_level = options.log_level;
    if (options.load_default_plugins) {
      for (const auto& failure : ctx->registry.load_default_plugins())
        ctx->log(1, "warning: plugin not loaded: " + failure.message);
    }
    *out = ctx.release();
  });
}

void memtx_context_free(memtx_context* ctx) { delete ctx; }

memtx_status* memtx_plugin_load(memtx_context* ctx, const char* path) {
  return guarded("memtx_plugin_load", [&] {
    require(ctx, "memtx_plugin_load", "ctx");
    require(path, "memtx_plugin_load", "path");
    ctx->registry.load_file(path);
  });
}

memtx_status* memtx_plugin_load_dir(memtx_context* ctx, const char* dir) {
  return guarded("memtx_plugin_load_dir", [&] {
    require(ctx, "memtx_plugin_load_dir", "ctx");
    require(dir, "memtx_plugin_load_dir", "dir");
    auto failures = ctx->registry.load_directory(dir);
    if (!failures.empty()) {
      std::string message = failures.front().message;
      if (failures.size() > 1) message += " (and " + std::to_string(failures.size() - 1) + " more failures)";
      throw memtx::Error(failures.front().code, message);
    }
  });
}

memtx_status* memtx_plugin_list(memtx_context* ctx, char** out_json) {
  return guarded("memtx_plugin_list", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(ctx, "memtx_plugin_list", "ctx");
    require(out_json, "memtx_plugin_list", "out_json");
    *out_json = copy_string(ctx->registry.describe_json());
  });
}

}  // extern "C"
