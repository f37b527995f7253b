// causal/causal_keys.cpp: the keys only the causal/infinite layer reads, with their docs, and its rules:
//   the sink options need use_flash_lobo and exclude each other;
//   RoPE fits the query/key head size d_qk = n_qk_head_dim, else model.head_dim, else hidden_dim / num_heads:
//   rope_dim <= d_qk, and d_qk is even when RoPE covers the whole head.
#include "causal/causal_keys.hpp"

#include <optional>

#include "common/qk_norm_keys.hpp"

namespace memtx::causal {
namespace {

using Errors = std::vector<std::string>;
using VT = ValueType;
const Value kNull{};

std::string kv(const Config& c, const char* key) { return std::string(key) + " (" + c.get(key).to_string() + ")"; }

// The query/key head size RoPE applies to and where it comes from; none when hidden_dim / num_heads does
// not divide and neither head size is set.
struct QkSize {
  int64_t dim;
  std::string name;
};
std::optional<QkSize> qk_head_size(const Config& c) {
  if (auto d = c.get_opt_int("attention.n_qk_head_dim")) return QkSize{*d, "attention.n_qk_head_dim"};
  if (auto d = c.get_opt_int("model.head_dim")) return QkSize{*d, "model.head_dim"};
  const int64_t hidden = c.get_int("model.hidden_dim"), heads = c.get_int("model.num_heads");
  if (hidden % heads == 0) return QkSize{hidden / heads, "model.hidden_dim / model.num_heads"};
  return std::nullopt;
}

const std::vector<std::string> kHeadKeys = {"attention.n_qk_head_dim", "model.head_dim", "model.hidden_dim",
                                            "model.num_heads"};
std::vector<std::string> head_keys_and(std::vector<std::string> more) {
  more.insert(more.begin(), kHeadKeys.begin(), kHeadKeys.end());
  return more;
}

std::vector<ConfigRule> causal_rules() {
  std::vector<ConfigRule> rules;
  rules.push_back(
      {"`attention.use_flash_lobo_per_head` and `attention.use_flash_obo_const` require `attention.use_flash_lobo`, "
       "and exclude each other (a constant sink has no per-head parameters).",
       {"attention.use_flash_lobo", "attention.use_flash_lobo_per_head", "attention.use_flash_obo_const"},
       [](const Config& c, Errors& err) {
         const bool lobo = c.get_bool("attention.use_flash_lobo");
         const bool per_head = c.get_bool("attention.use_flash_lobo_per_head");
         const bool constant = c.get_bool("attention.use_flash_obo_const");
         if (per_head && !lobo) err.push_back("attention.use_flash_lobo_per_head requires attention.use_flash_lobo: true");
         if (constant && !lobo) err.push_back("attention.use_flash_obo_const requires attention.use_flash_lobo: true");
         if (per_head && constant)
           err.push_back("attention.use_flash_lobo_per_head and attention.use_flash_obo_const exclude each other (a "
                         "constant sink has no per-head parameters)");
       }});
  rules.push_back(
      {"`model.rope_dim`, when set, is at most the query/key head size (`attention.n_qk_head_dim` when set, else "
       "`model.head_dim`, else `hidden_dim / num_heads`).",
       head_keys_and({"model.rope_dim"}),
       [](const Config& c, Errors& err) {
         auto rd = c.get_opt_int("model.rope_dim");
         if (!rd) return;
         if (auto qk = qk_head_size(c); qk && *rd > qk->dim)
           err.push_back(kv(c, "model.rope_dim") + " must be <= the query/key head size " + std::to_string(qk->dim) +
                         " (" + qk->name + ")");
       }});
  rules.push_back(
      {"With `model.use_rope` and no `model.rope_dim`, the query/key head size is even.",
       head_keys_and({"model.rope_dim", "model.use_rope"}),
       [](const Config& c, Errors& err) {
         if (c.get_opt_int("model.rope_dim") || !c.get_bool("model.use_rope")) return;
         if (auto qk = qk_head_size(c); qk && qk->dim % 2 != 0)
           err.push_back("model.use_rope needs an even query/key head size, got " + std::to_string(qk->dim) + " (" +
                         qk->name + "); set model.rope_dim to an even size or change the dimensions");
       }});
  rules.push_back(
      {"`attention.sliding_window_layers` needs `attention.sliding_window`, and names layers below `model.num_layers`.",
       {"attention.sliding_window", "attention.sliding_window_layers", "model.num_layers"},
       [](const Config& c, Errors& err) {
         if (c.get("attention.sliding_window_layers").is_null()) return;
         if (!c.get_opt_int("attention.sliding_window"))
           err.push_back("attention.sliding_window_layers is set but attention.sliding_window is null (no window to use)");
         const int64_t layers = c.get_int("model.num_layers");
         for (int64_t i : c.get_int_list("attention.sliding_window_layers"))
           if (i < 0 || i >= layers)
             err.push_back("attention.sliding_window_layers names layer " + std::to_string(i) + ", outside 0.." +
                           std::to_string(layers - 1) + " (model.num_layers " + std::to_string(layers) + ")");
       }});
  return rules;
}

}  // namespace

VariantKeys causal_keys() {
  VariantKeys keys;
  keys.options = {
      Option("attention.attn_logit_softcapping", VT::Float, kNull).above(0).by("causal")
          .expect("a float cap c > 0 (scores become c*tanh(s/c))")
          .doc("Soft cap c on attention scores: s becomes c*tanh(s/c) before masking; null disables it. A boolean is "
               "rejected (it is not a cap)."),
      Option("attention.use_flash_lobo", VT::Bool, false).by("causal")
          .doc("Add an attention sink: an extra zero-valued key that every query sees with logit log_c, so a head "
               "can attend to nothing."),
      Option("attention.use_flash_lobo_per_head", VT::Bool, false).by("causal")
          .doc("Learn one sink logit per head instead of one per layer; requires use_flash_lobo."),
      Option("attention.use_flash_obo_const", VT::Bool, false).by("causal")
          .doc("Keep the sink logit fixed at flash_lobo_log_const instead of learning it; requires use_flash_lobo."),
      Option("attention.flash_lobo_log_const", VT::Float, 0.0).by("causal")
          .doc("Initial value of the sink logit log_c (its fixed value with use_flash_obo_const)."),
      Option("attention.n_qk_head_dim", VT::Int, kNull).min(1).max(65536).by("causal, infinite")
          .doc("Query/key head size, decoupled from hidden_dim / num_heads; null keeps the usual size."),
      Option("attention.n_v_head_dim", VT::Int, kNull).min(1).max(65536).by("causal, infinite")
          .doc("Value head size, decoupled from hidden_dim / num_heads; null keeps the usual size."),
      Option("attention.n_cproj", VT::Int, kNull).min(1).max(4096).by("causal, infinite")
          .doc("Number of output projections of the causal/infinite layer (o_proj, o_proj_1, ...), each mapping the "
               "attended heads to hidden_dim; their outputs are summed, which equals one projection whose weight is "
               "their sum: it changes the parametrisation and the training dynamics, not what the layer can express. "
               "null means 1."),
      Option("attention.use_concat_heads", VT::Bool, kNull).by("causal, infinite")
          .doc("Concatenate heads into the output projection (true) or project each head to hidden_dim and sum "
               "(false); null leaves it to the variant (causal concatenates, infinite sums)."),
      Option("attention.sliding_window", VT::Int, kNull).min(1).max(1LL << 31).by("causal")
          .doc("Sliding-window attention (Mistral, Qwen2): each query sees itself and the sliding_window - 1 keys "
               "before it, and the inference key/value cache keeps only those; null sees the whole past."),
      Option("attention.sliding_window_layers", VT::IntList, kNull).by("causal")
          .doc("The layer indices that use attention.sliding_window (Qwen2's layers from max_window_layers on); "
               "null: every causal layer."),
  };
  keys.rules = causal_rules();
  keys.add(common::qk_norm_keys());
  return keys;
}

}  // namespace memtx::causal
