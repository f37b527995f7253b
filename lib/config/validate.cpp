// config/validate.cpp: Config::validate(), the rules that involve more than one key (each value alone was
// checked when it was set). All broken rules are reported together, each naming the keys and their values.
// validation_rule_texts() describes the same rules for docs/config.md; keep the two lists in step.
#include <set>

#include "config/internal.hpp"

namespace memtx {

namespace config_detail {

const std::vector<std::string>& validation_rule_texts() {
  static const std::vector<std::string> rules = {
      "`model.hidden_dim` is divisible by `model.num_heads`, unless `model.head_dim` is set.",
      "`attention.n_kv_group`, when set, divides `model.num_heads`.",
      "`model.rope_dim`, when set, is even and at most the query/key head size (`attention.n_qk_head_dim` "
      "when set, else `model.head_dim`, else `hidden_dim / num_heads`).",
      "With `model.use_rope` and no `model.rope_dim`, the query/key head size is even.",
      "`attention.attention_list`, when set, is not empty.",
      "`attention.use_qk_norm_scale` requires `attention.use_qk_norm`.",
      "`attention.use_flash_lobo_per_head` and `attention.use_flash_obo_const` require "
      "`attention.use_flash_lobo`, and exclude each other (a constant sink has no per-head parameters).",
      "`attention.mla_rotary_dim` is even.",
      "When the model has memory layers (`memory.vanilla_mode` false, `memory.use_memory_adapter` or "
      "`memory.use_both_memory_and_lora` true, placement not `none`): placement `custom` requires "
      "`memory.memory_layer_indices`; every index is in [0, `model.num_layers`) and appears once; "
      "indices given with another placement are an error; `first_k`/`last_k` need `memory.memory_layer_k` "
      "<= `model.num_layers`.",
      "`memory.memory_layer_n` >= 1.",
      "With `memory.use_chapters` (and memory layers): `memory.top_k_chapters` <= `memory.num_chapters`; "
      "`memory.tokens_per_chapter` * `memory.num_chapters` == `memory.num_memory_tokens` when "
      "`tokens_per_chapter` is set, otherwise `memory.num_memory_tokens` >= `memory.num_chapters`.",
      "`memory.memory_quant_bits` is 4 or 8.",
      "`memory.lora_targets` is not empty when `memory.use_lora` or `memory.use_both_memory_and_lora` is "
      "true.",
      "`memory.use_both_memory_and_lora` requires `memory.use_memory_adapter` (it must not be false).",
      "`training.warmup_ratio`, when set, is in [0, 1].",
      "`training.warmup_steps` <= `training.max_steps` when neither `training.warmup_ratio` nor "
      "`training.num_epochs` is set.",
      "`training.early_stopping` requires `training.eval_split` (null disables evaluation).",
      "No string value or list entry is the empty string (use null where a key allows it).",
  };
  return rules;
}

}  // namespace config_detail

void Config::validate() const {
  std::vector<std::string> errors;
  auto err = [&](std::string msg) { errors.push_back(std::move(msg)); };
  // Guards keep validate() usable with a custom schema that lacks some builtin keys.
  auto has = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      if (!schema_->find(k)) return false;
    return true;
  };
  auto num = [](int64_t v) { return std::to_string(v); };
  auto kv = [&](const char* key) { return std::string(key) + " (" + get(key).to_string() + ")"; };

  // ---- model and attention ----
  if (has({"model.hidden_dim", "model.num_heads", "model.head_dim"})) {
    const int64_t hidden = get_int("model.hidden_dim"), heads = get_int("model.num_heads");
    const auto head_dim = get_opt_int("model.head_dim");
    if (!head_dim && hidden % heads != 0)
      err(kv("model.hidden_dim") + " is not divisible by " + kv("model.num_heads") +
          "; choose sizes that divide or set model.head_dim");

    if (has({"attention.n_kv_group"})) {
      if (auto g = get_opt_int("attention.n_kv_group"); g && heads % *g != 0)
        err(kv("attention.n_kv_group") + " must divide " + kv("model.num_heads"));
    }

    // The query/key head size RoPE applies to.
    std::optional<int64_t> qk_dim;
    std::string qk_name;
    if (has({"attention.n_qk_head_dim"}) && get_opt_int("attention.n_qk_head_dim")) {
      qk_dim = get_opt_int("attention.n_qk_head_dim");
      qk_name = "attention.n_qk_head_dim";
    } else if (head_dim) {
      qk_dim = head_dim;
      qk_name = "model.head_dim";
    } else if (hidden % heads == 0) {
      qk_dim = hidden / heads;
      qk_name = "model.hidden_dim / model.num_heads";
    }
    if (has({"model.rope_dim", "model.use_rope"})) {
      if (auto rd = get_opt_int("model.rope_dim")) {
        if (*rd % 2 != 0) err(kv("model.rope_dim") + " must be even (RoPE rotates pairs of channels)");
        if (qk_dim && *rd > *qk_dim)
          err(kv("model.rope_dim") + " must be <= the query/key head size " + num(*qk_dim) + " (" + qk_name +
              ")");
      } else if (get_bool("model.use_rope") && qk_dim && *qk_dim % 2 != 0) {
        err("model.use_rope needs an even query/key head size, got " + num(*qk_dim) + " (" + qk_name +
            "); set model.rope_dim to an even size or change the dimensions");
      }
    }
  }

  if (has({"attention.attention_list"})) {
    const Value& list = get("attention.attention_list");
    if (!list.is_null() && list.as_string_list().empty())
      err("attention.attention_list must not be empty; use null to give every layer "
          "attention.attention_variant");
  }
  if (has({"attention.use_qk_norm_scale", "attention.use_qk_norm"}) && get_bool("attention.use_qk_norm_scale") &&
      !get_bool("attention.use_qk_norm"))
    err("attention.use_qk_norm_scale requires attention.use_qk_norm: true");
  if (has({"attention.use_flash_lobo", "attention.use_flash_lobo_per_head", "attention.use_flash_obo_const"})) {
    const bool lobo = get_bool("attention.use_flash_lobo");
    const bool per_head = get_bool("attention.use_flash_lobo_per_head");
    const bool constant = get_bool("attention.use_flash_obo_const");
    if (per_head && !lobo) err("attention.use_flash_lobo_per_head requires attention.use_flash_lobo: true");
    if (constant && !lobo) err("attention.use_flash_obo_const requires attention.use_flash_lobo: true");
    if (per_head && constant)
      err("attention.use_flash_lobo_per_head and attention.use_flash_obo_const exclude each other (a constant "
          "sink has no per-head parameters)");
  }
  if (has({"attention.mla_rotary_dim"}) && get_int("attention.mla_rotary_dim") % 2 != 0)
    err(kv("attention.mla_rotary_dim") + " must be even (RoPE rotates pairs of channels)");

  // ---- memory ----
  if (has({"model.num_layers", "memory.vanilla_mode", "memory.memory_layer_placement", "memory.use_memory_adapter",
           "memory.use_both_memory_and_lora", "memory.memory_layer_indices", "memory.memory_layer_k",
           "memory.memory_layer_n", "memory.use_chapters", "memory.num_chapters", "memory.num_memory_tokens",
           "memory.top_k_chapters", "memory.tokens_per_chapter", "memory.memory_quant_bits", "memory.use_lora",
           "memory.lora_targets"})) {
    const int64_t layers = get_int("model.num_layers");
    const std::string placement = get_string("memory.memory_layer_placement");
    const bool adapter = get_bool("memory.use_memory_adapter");
    const bool both = get_bool("memory.use_both_memory_and_lora");
    const bool memory_on = !get_bool("memory.vanilla_mode") && (adapter || both) && placement != "none";
    if (memory_on) {
      const Value& idx = get("memory.memory_layer_indices");
      if (placement == "custom" && idx.is_null())
        err("memory.memory_layer_placement is custom but memory.memory_layer_indices is null; list the layers, "
            "e.g. [0, 1, 5]");
      if (placement == "custom" && !idx.is_null() && idx.as_int_list().empty())
        err("memory.memory_layer_indices is empty with memory.memory_layer_placement custom; use placement "
            "none for no memory layers");
      if (placement != "custom" && !idx.is_null())
        err("memory.memory_layer_indices is set but memory.memory_layer_placement is " + placement +
            "; set the placement to custom (or the indices to null)");
      if (!idx.is_null()) {
        std::set<int64_t> seen;
        const auto& xs = idx.as_int_list();
        for (size_t i = 0; i < xs.size(); ++i) {
          if (xs[i] < 0 || xs[i] >= layers)
            err("memory.memory_layer_indices[" + num(static_cast<int64_t>(i)) + "] = " + num(xs[i]) +
                " is outside [0, " + num(layers) + ") (model.num_layers = " + num(layers) + ")");
          if (!seen.insert(xs[i]).second)
            err("memory.memory_layer_indices lists layer " + num(xs[i]) + " more than once");
        }
      }
      if ((placement == "first_k" || placement == "last_k") && get_int("memory.memory_layer_k") > layers)
        err(kv("memory.memory_layer_k") + " must be <= " + kv("model.num_layers") +
            " for memory.memory_layer_placement " + placement);
      if (get_bool("memory.use_chapters")) {
        const int64_t chapters = get_int("memory.num_chapters"), tokens = get_int("memory.num_memory_tokens");
        if (get_int("memory.top_k_chapters") > chapters)
          err(kv("memory.top_k_chapters") + " must be <= " + kv("memory.num_chapters"));
        if (auto per = get_opt_int("memory.tokens_per_chapter")) {
          if (*per * chapters != tokens)
            err("memory.tokens_per_chapter (" + num(*per) + ") * memory.num_chapters (" + num(chapters) + ") = " +
                num(*per * chapters) + " must equal " + kv("memory.num_memory_tokens"));
        } else if (tokens < chapters) {
          err(kv("memory.num_memory_tokens") + " must be >= " + kv("memory.num_chapters") +
              " so that every chapter holds at least one memory token");
        }
      }
    }
    if (get_int("memory.memory_layer_n") < 1) err(kv("memory.memory_layer_n") + " must be >= 1");
    const int64_t bits = get_int("memory.memory_quant_bits");
    if (bits != 4 && bits != 8) err("memory.memory_quant_bits must be 4 or 8, got " + num(bits));
    if ((get_bool("memory.use_lora") || both) && get_string_list("memory.lora_targets").empty())
      err("memory.lora_targets must not be empty when " +
          std::string(get_bool("memory.use_lora") ? "memory.use_lora" : "memory.use_both_memory_and_lora") +
          " is true; name the projections, e.g. [q_proj, v_proj]");
    if (both && !adapter)
      err("memory.use_both_memory_and_lora requires memory.use_memory_adapter, which is false; set "
          "memory.use_memory_adapter: true or memory.use_both_memory_and_lora: false");
  }

  // ---- training ----
  if (has({"training.warmup_ratio", "training.num_epochs", "training.warmup_steps", "training.max_steps"})) {
    if (auto r = get_opt_float("training.warmup_ratio"); r && (*r < 0.0 || *r > 1.0))
      err(kv("training.warmup_ratio") + " must be in [0, 1]");
    if (!get_opt_float("training.warmup_ratio") && !get_opt_int("training.num_epochs") &&
        get_int("training.warmup_steps") > get_int("training.max_steps"))
      err(kv("training.warmup_steps") + " must be <= " + kv("training.max_steps"));
  }
  if (has({"training.early_stopping", "training.eval_split"}) && get_bool("training.early_stopping") &&
      !get_opt_string("training.eval_split"))
    err("training.early_stopping requires training.eval_split, which is null (no evaluation to watch)");

  // ---- every key ----
  for (const auto& d : schema_->options()) {
    const Value& v = get(d.key);
    if (v.type() == ValueType::String && v.as_string().empty())
      err(d.key + " must not be the empty string" + (d.nullable ? " (use null for none)" : ""));
    if (v.type() == ValueType::StringList) {
      const auto& xs = v.as_string_list();
      for (size_t i = 0; i < xs.size(); ++i)
        if (xs[i].empty()) err(d.key + "[" + std::to_string(i) + "] must not be the empty string");
    }
  }

  if (errors.size() == 1) throw Error(StatusCode::Config, errors.front());
  if (!errors.empty())
    throw Error(StatusCode::Config, std::to_string(errors.size()) + " configuration errors:\n  " +
                                        config_detail::join(errors, "\n  "));
}

}  // namespace memtx
