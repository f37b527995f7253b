// model/hf_rope.cpp: RoPE and sliding-window settings between a config.json and memtx's keys, both ways.
//   RoPE: rope_parameters (transformers 5: {rope_type, rope_theta, factor, ...}) or the older rope_theta +
//   rope_scaling {type | rope_type, factor, ...}; rope_type default, linear, dynamic, llama3 and yarn map onto
//   model.rope_scaling and its keys (equations at RopeScaling, memtx/attention.hpp). Lengths: linear, llama3 and
//   yarn files give max_position_embeddings as the extended context (llama3/yarn's original one in
//   original_max_position_embeddings); a dynamic file gives the original one, which memtx keeps as
//   rope_original_max_seq_len while its max_seq_len (the input limit) becomes factor times longer.
//   Sliding window (Qwen2): use_sliding_window, sliding_window, and the sliding layers from layer_types
//   ("sliding_attention") or, without it, every layer from max_window_layers on.
#include <cmath>

#include "model/hf_arch.hpp"

namespace memtx::hf {
namespace {

[[noreturn]] void unsupported(const std::filesystem::path& file, const std::string& what) {
  throw Error(StatusCode::Config, file.string() + ": " + what);
}

// YaRN's cos/sin factor from DeepSeek-style mscale and mscale_all_dim.
double yarn_mscale(double factor, double mscale) { return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0; }

}  // namespace

void map_rope(const nlohmann::json& j, const std::filesystem::path& file, Config& c) {
  nlohmann::json rp = nlohmann::json::object();
  double theta = 10000.0;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    rp = j["rope_parameters"];
    theta = number_or(rp, "rope_theta", number_or(j, "rope_theta", 10000.0, file), file);
  } else {
    theta = number_or(j, "rope_theta", 10000.0, file);
    if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
      if (!j["rope_scaling"].is_object()) unsupported(file, "'rope_scaling' is not an object");
      rp = j["rope_scaling"];
    }
  }
  c.set("model.rope_theta", theta);
  const std::string type = string_or(rp, "rope_type", string_or(rp, "type", "default", file), file);
  if (type == "default") return;
  if (type != "linear" && type != "dynamic" && type != "llama3" && type != "yarn")
    unsupported(file, "rope_type '" + type + "' is not supported (default, linear, dynamic, llama3, yarn)");
  if (number_or(rp, "partial_rotary_factor", 1.0, file) != 1.0)
    unsupported(file, "partial_rotary_factor is not supported with rope scaling here");
  const int64_t max_positions = integer_or(j, "max_position_embeddings", 4096, file);
  const int64_t original = integer_or(rp, "original_max_position_embeddings", max_positions, file);
  if (original < 1) unsupported(file, "'original_max_position_embeddings' must be >= 1");
  double factor = number_or(rp, "factor", 0.0, file);
  if (type == "yarn" && factor == 0.0) factor = double(max_positions) / double(original);  // DeepSeek's convention
  if (!(factor > 0.0) || !std::isfinite(factor)) unsupported(file, "rope '" + type + "' needs a 'factor' > 0");
  c.set("model.rope_scaling", type);
  c.set("model.rope_scaling_factor", factor);
  if (type == "dynamic") {
    c.set("model.rope_original_max_seq_len", max_positions);
    const double extended = std::floor(double(max_positions) * std::max(factor, 1.0));
    c.set("model.max_seq_len", static_cast<int64_t>(std::min(extended, 1e12)));
  } else if (type == "llama3") {
    c.set("model.rope_original_max_seq_len", original);
    c.set("model.rope_low_freq_factor", field<double>(rp, "low_freq_factor", file));
    c.set("model.rope_high_freq_factor", field<double>(rp, "high_freq_factor", file));
  } else if (type == "yarn") {
    if (!boolean_or(rp, "truncate", true, file)) unsupported(file, "yarn with truncate false is not supported");
    c.set("model.rope_original_max_seq_len", original);
    const double fast = number_or(rp, "beta_fast", 0.0, file), slow = number_or(rp, "beta_slow", 0.0, file);
    c.set("model.rope_yarn_beta_fast", fast > 0.0 ? fast : 32.0);  // transformers: 0 or absent -> the default
    c.set("model.rope_yarn_beta_slow", slow > 0.0 ? slow : 1.0);
    const double mscale = number_or(rp, "mscale", 0.0, file), mscale_all = number_or(rp, "mscale_all_dim", 0.0, file);
    if (rp.contains("attention_factor") && !rp["attention_factor"].is_null()) {
      c.set("model.rope_yarn_attention_factor", number_or(rp, "attention_factor", 1.0, file));
    } else if (mscale != 0.0 && mscale_all != 0.0) {
      c.set("model.rope_yarn_attention_factor", yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all));
    }
  }
}

nlohmann::json export_rope(const Config& c) {
  nlohmann::json rp = {{"rope_theta", c.get_float("model.rope_theta")}};
  const std::string type = c.get_string("model.rope_scaling");
  rp["rope_type"] = type == "none" ? "default" : type;
  if (type == "none") return rp;
  const double factor = c.get_float("model.rope_scaling_factor");
  rp["factor"] = factor;
  const int64_t original = c.get_opt_int("model.rope_original_max_seq_len").value_or(c.get_int("model.max_seq_len"));
  if (type == "llama3") {
    rp["original_max_position_embeddings"] = original;
    rp["low_freq_factor"] = c.get_float("model.rope_low_freq_factor");
    rp["high_freq_factor"] = c.get_float("model.rope_high_freq_factor");
  } else if (type == "yarn") {
    rp["original_max_position_embeddings"] = original;
    rp["beta_fast"] = c.get_float("model.rope_yarn_beta_fast");
    rp["beta_slow"] = c.get_float("model.rope_yarn_beta_slow");
    rp["attention_factor"] = yarn_attention_factor(c);
  }
  return rp;
}

double yarn_attention_factor(const Config& c) {
  if (const auto explicit_factor = c.get_opt_float("model.rope_yarn_attention_factor")) return *explicit_factor;
  return yarn_mscale(c.get_float("model.rope_scaling_factor"), 1.0);
}

int64_t export_max_positions(const Config& c) {
  if (c.get_string("model.rope_scaling") == "dynamic")
    return c.get_opt_int("model.rope_original_max_seq_len").value_or(c.get_int("model.max_seq_len"));
  return c.get_int("model.max_seq_len");
}

void map_sliding_window(const nlohmann::json& j, const std::filesystem::path& file, Config& c) {
  if (!boolean_or(j, "use_sliding_window", false, file)) return;
  const int64_t window = integer_or(j, "sliding_window", 0, file);
  if (window < 1) unsupported(file, "use_sliding_window is true but 'sliding_window' is not a positive integer");
  const int64_t layers = field<int64_t>(j, "num_hidden_layers", file);
  std::vector<int64_t> sliding;
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    const auto& types = j["layer_types"];
    if (static_cast<int64_t>(types.size()) != layers)
      unsupported(file, "'layer_types' has " + std::to_string(types.size()) + " entries for " +
                            std::to_string(layers) + " layers");
    for (int64_t i = 0; i < layers; ++i) {
      if (!types[i].is_string()) unsupported(file, "'layer_types' entries must be strings");
      const std::string t = types[i].get<std::string>();
      if (t == "sliding_attention") sliding.push_back(i);
      else if (t != "full_attention") unsupported(file, "layer type '" + t + "' is not supported");
    }
  } else {
    for (int64_t i = integer_or(j, "max_window_layers", layers, file); i < layers; ++i) sliding.push_back(i);
  }
  if (sliding.empty()) return;  // no layer uses the window
  c.set("attention.sliding_window", window);
  c.set("attention.sliding_window_layers", sliding);
}

void export_sliding_window(const Config& c, nlohmann::json& j) {
  const auto window = c.get_opt_int("attention.sliding_window");
  j["use_sliding_window"] = window.has_value();
  if (!window) return;
  const int64_t layers = c.get_int("model.num_layers");
  std::vector<int64_t> sliding = c.get_int_list("attention.sliding_window_layers");
  if (c.get("attention.sliding_window_layers").is_null())
    for (int64_t i = 0; i < layers; ++i) sliding.push_back(i);
  std::vector<std::string> types(layers, "full_attention");
  int64_t first = layers;
  for (int64_t i : sliding) {
    types[i] = "sliding_attention";
    first = std::min(first, i);
  }
  j["sliding_window"] = *window;
  j["max_window_layers"] = first;
  j["layer_types"] = types;
}

}  // namespace memtx::hf
