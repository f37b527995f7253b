// model/hf_config.cpp: config.json -> memtx Config (see hf_config.hpp): the architecture's names, its
// plugin's keys, then its map_config over a Config of memory.vanilla_mode on the CPU.
#include "model/hf_config.hpp"

#include <utility>

namespace memtx {

Config hf_config_from_json(const nlohmann::json& j, const std::filesystem::path& file,
                           std::shared_ptr<const Schema> schema, HfModelInfo* info_out) {
  if (!j.is_object())
    throw Error(StatusCode::Config, file.string() + ": the document is a JSON " + std::string(j.type_name()) +
                                        ", not an object of settings");
  HfModelInfo info;
  info.model_type = hf::string_or(j, "model_type", "", file);
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string()) {
    info.architecture = j["architectures"][0].get<std::string>();
  }
  const HfArchitecture& arch = hf_architecture_for(info.model_type, file);
  info.layer_prefix = arch.layer_prefix;
  info.mixer_name = arch.mixer_name;
  for (const std::string& key : arch.variant_keys) {
    if (!schema->find(key)) {
      throw Error(StatusCode::Plugin, file.string() + ": a " + info.model_type + " model's layers are '" + arch.variant +
                                          "' attention, whose plugin is not loaded (it defines " + key +
                                          "); put libmemtx_" + arch.variant + ".so in the plugins folder or load it");
    }
  }
  Config c(std::move(schema));
  c.set("memory.vanilla_mode", true);
  c.set("model.device", std::string("cpu"));
  try {
    arch.map_config(j, file, c);
  } catch (const Error& e) {  // a value out of its key's bounds: name the file it came from
    const std::string message = e.what();
    if (message.rfind(file.string(), 0) == 0) throw;
    throw Error(e.code(), file.string() + ": " + message);
  }
  if (info_out) *info_out = info;
  return c;
}

}  // namespace memtx
