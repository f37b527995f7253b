// plugin/describe.cpp: Registry::describe_json, the JSON behind memtx_plugin_list:
// {"plugins":[{file,name,version,variants}], "variants":[{name,description,recurrent,plugin,
//  options:[{key,type,default,doc}]}], "failures":[{file,code,message}]}
#include <nlohmann/json.hpp>

#include "plugin/registry_impl.hpp"

namespace memtx {

namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order

Json value_json(const Value& value) {
  switch (value.type()) {
    case ValueType::Null: return nullptr;
    case ValueType::Bool: return value.as_bool();
    case ValueType::Int: return value.as_int();
    case ValueType::Float: return value.as_float();
    case ValueType::String: return value.as_string();
    case ValueType::IntList: return value.as_int_list();
    case ValueType::StringList: return value.as_string_list();
  }
  return nullptr;
}

Json variant_json(const VariantDesc& desc) {
  Json options = Json::array();
  for (const OptionDef& def : desc.options) {
    options.push_back({{"key", def.key},
                       {"type", value_type_name(def.type)},
                       {"default", value_json(def.default_value)},
                       {"doc", def.doc}});
  }
  return {{"name", desc.name},
          {"description", desc.description},
          {"recurrent", desc.recurrent},
          {"plugin", desc.plugin_file},
          {"options", std::move(options)}};
}

}  // namespace

std::string Registry::describe_json() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Json plugins = Json::array();
  for (const LoadedPlugin& p : impl_->loaded) {
    plugins.push_back({{"file", p.record.file},
                       {"name", p.record.name},
                       {"version", p.record.version},
                       {"variants", p.record.variants}});
  }
  Json variants = Json::array();
  for (const auto& entry : impl_->variants) variants.push_back(variant_json(entry.second.desc));
  Json failures = Json::array();
  for (const PluginFailure& f : impl_->failures) {
    failures.push_back({{"file", f.file}, {"code", static_cast<int>(f.code)}, {"message", f.message}});
  }
  Json out = {{"plugins", std::move(plugins)}, {"variants", std::move(variants)},
                        {"failures", std::move(failures)}};
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);  // paths need not be UTF-8
}

}  // namespace memtx
