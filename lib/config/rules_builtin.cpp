// config/rules_builtin.cpp: the cross-field rules of the builtin schema (model, attention, memory,
// training; a plugin adds the rules over its own keys), each a ConfigRule: its sentence for docs/config.md, the keys it reads and the check that reports
// its broken conditions; and memory_layers_enabled(), the "model has memory layers" predicate. The order
// here is the order of the messages validate() reports and of the rules in the reference.
#include <set>

#include "config/internal.hpp"

namespace memtx {

bool memory_layers_enabled(const Config& c) {
  return !c.get_bool("memory.vanilla_mode") &&
         (c.get_bool("memory.use_memory_adapter") || c.get_bool("memory.use_both_memory_and_lora")) &&
         c.get_string("memory.memory_layer_placement") != "none";
}

namespace {

using Errors = std::vector<std::string>;
using Keys = std::vector<std::string>;

std::string num(int64_t v) { return std::to_string(v); }
// "model.hidden_dim (250)": a key and its value, as every message names them.
std::string kv(const Config& c, const char* key) { return std::string(key) + " (" + c.get(key).to_string() + ")"; }

Keys operator+(Keys a, const Keys& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The keys memory_layers_enabled() reads.
const Keys kMemoryOn = {"memory.vanilla_mode", "memory.use_memory_adapter", "memory.use_both_memory_and_lora",
                        "memory.memory_layer_placement"};

void add_model_attention_rules(Schema& s) {
  s.add_rule({"`model.hidden_dim` is divisible by `model.num_heads`, unless `model.head_dim` is set.",
              {"model.hidden_dim", "model.num_heads", "model.head_dim"},
              [](const Config& c, Errors& err) {
                if (!c.get_opt_int("model.head_dim") &&
                    c.get_int("model.hidden_dim") % c.get_int("model.num_heads") != 0)
                  err.push_back(kv(c, "model.hidden_dim") + " is not divisible by " + kv(c, "model.num_heads") +
                                "; choose sizes that divide or set model.head_dim");
              }});
  s.add_rule({"`attention.n_kv_group`, when set, divides `model.num_heads`.",
              {"model.num_heads", "attention.n_kv_group"},
              [](const Config& c, Errors& err) {
                if (auto g = c.get_opt_int("attention.n_kv_group"); g && c.get_int("model.num_heads") % *g != 0)
                  err.push_back(kv(c, "attention.n_kv_group") + " must divide " + kv(c, "model.num_heads"));
              }});
  s.add_rule({"`model.rope_dim`, when set, is even (the variants that apply RoPE add how it must fit their heads).",
              {"model.rope_dim"},
              [](const Config& c, Errors& err) {
                if (auto rd = c.get_opt_int("model.rope_dim"); rd && *rd % 2 != 0)
                  err.push_back(kv(c, "model.rope_dim") + " must be even (RoPE rotates pairs of channels)");
              }});
  s.add_rule({"`attention.attention_list`, when set, is not empty.",
              {"attention.attention_list"},
              [](const Config& c, Errors& err) {
                const Value& list = c.get("attention.attention_list");
                if (!list.is_null() && list.as_string_list().empty())
                  err.push_back("attention.attention_list must not be empty; use null to give every layer "
                                "attention.attention_variant");
              }});
}

// Placement of the memory layers: indices for custom, no indices otherwise, everything within num_layers.
void check_memory_placement(const Config& c, Errors& err) {
  if (!memory_layers_enabled(c)) return;
  const int64_t layers = c.get_int("model.num_layers");
  const std::string placement = c.get_string("memory.memory_layer_placement");
  const Value& idx = c.get("memory.memory_layer_indices");
  if (placement == "custom" && idx.is_null())
    err.push_back("memory.memory_layer_placement is custom but memory.memory_layer_indices is null; list the "
                  "layers, e.g. [0, 1, 5]");
  if (placement == "custom" && !idx.is_null() && idx.as_int_list().empty())
    err.push_back("memory.memory_layer_indices is empty with memory.memory_layer_placement custom; use placement "
                  "none for no memory layers");
  if (placement != "custom" && !idx.is_null())
    err.push_back("memory.memory_layer_indices is set but memory.memory_layer_placement is " + placement +
                  "; set the placement to custom (or the indices to null)");
  if (!idx.is_null()) {
    std::set<int64_t> seen;
    const auto& xs = idx.as_int_list();
    for (size_t i = 0; i < xs.size(); ++i) {
      if (xs[i] < 0 || xs[i] >= layers)
        err.push_back("memory.memory_layer_indices[" + num(static_cast<int64_t>(i)) + "] = " + num(xs[i]) +
                      " is outside [0, " + num(layers) + ") (model.num_layers = " + num(layers) + ")");
      if (!seen.insert(xs[i]).second)
        err.push_back("memory.memory_layer_indices lists layer " + num(xs[i]) + " more than once");
    }
  }
  if ((placement == "first_k" || placement == "last_k") && c.get_int("memory.memory_layer_k") > layers)
    err.push_back(kv(c, "memory.memory_layer_k") + " must be <= " + kv(c, "model.num_layers") +
                  " for memory.memory_layer_placement " + placement);
}

// Chapter routing: top_k within the chapters, and the memory tokens split evenly (or at least one each).
void check_chapters(const Config& c, Errors& err) {
  if (!memory_layers_enabled(c) || !c.get_bool("memory.use_chapters")) return;
  const int64_t chapters = c.get_int("memory.num_chapters"), tokens = c.get_int("memory.num_memory_tokens");
  if (c.get_int("memory.top_k_chapters") > chapters)
    err.push_back(kv(c, "memory.top_k_chapters") + " must be <= " + kv(c, "memory.num_chapters"));
  if (auto per = c.get_opt_int("memory.tokens_per_chapter")) {
    if (*per * chapters != tokens)
      err.push_back("memory.tokens_per_chapter (" + num(*per) + ") * memory.num_chapters (" + num(chapters) +
                    ") = " + num(*per * chapters) + " must equal " + kv(c, "memory.num_memory_tokens"));
  } else if (tokens < chapters) {
    err.push_back(kv(c, "memory.num_memory_tokens") + " must be >= " + kv(c, "memory.num_chapters") +
                  " so that every chapter holds at least one memory token");
  }
}

void add_memory_rules(Schema& s) {
  s.add_rule({"When the model has memory layers (`memory.vanilla_mode` false, `memory.use_memory_adapter` or "
              "`memory.use_both_memory_and_lora` true, placement not `none`): placement `custom` requires "
              "`memory.memory_layer_indices`; every index is in [0, `model.num_layers`) and appears once; "
              "indices given with another placement are an error; `first_k`/`last_k` need `memory.memory_layer_k` "
              "<= `model.num_layers`.",
              kMemoryOn + Keys{"model.num_layers", "memory.memory_layer_indices", "memory.memory_layer_k"},
              check_memory_placement});
  s.add_rule({"`memory.memory_layer_n` >= 1.",
              {"memory.memory_layer_n"},
              [](const Config& c, Errors& err) {
                if (c.get_int("memory.memory_layer_n") < 1)
                  err.push_back(kv(c, "memory.memory_layer_n") + " must be >= 1");
              }});
  s.add_rule({"With `memory.use_chapters` (and memory layers): `memory.top_k_chapters` <= `memory.num_chapters`; "
              "`memory.tokens_per_chapter` * `memory.num_chapters` == `memory.num_memory_tokens` when "
              "`tokens_per_chapter` is set, otherwise `memory.num_memory_tokens` >= `memory.num_chapters`.",
              kMemoryOn + Keys{"memory.use_chapters", "memory.num_chapters", "memory.num_memory_tokens",
                               "memory.top_k_chapters", "memory.tokens_per_chapter"},
              check_chapters});
  s.add_rule({"`memory.memory_quant_bits` is 4 or 8.",
              {"memory.memory_quant_bits"},
              [](const Config& c, Errors& err) {
                const int64_t bits = c.get_int("memory.memory_quant_bits");
                if (bits != 4 && bits != 8) err.push_back("memory.memory_quant_bits must be 4 or 8, got " + num(bits));
              }});
  s.add_rule({"`memory.lora_targets` is not empty when `memory.use_lora` or `memory.use_both_memory_and_lora` is "
              "true.",
              {"memory.use_lora", "memory.use_both_memory_and_lora", "memory.lora_targets"},
              [](const Config& c, Errors& err) {
                const bool lora = c.get_bool("memory.use_lora");
                if ((lora || c.get_bool("memory.use_both_memory_and_lora")) &&
                    c.get_string_list("memory.lora_targets").empty())
                  err.push_back("memory.lora_targets must not be empty when " +
                                std::string(lora ? "memory.use_lora" : "memory.use_both_memory_and_lora") +
                                " is true; name the projections, e.g. [q_proj, v_proj]");
              }});
  s.add_rule({"`memory.use_both_memory_and_lora` requires `memory.use_memory_adapter` (it must not be false).",
              {"memory.use_both_memory_and_lora", "memory.use_memory_adapter"},
              [](const Config& c, Errors& err) {
                if (c.get_bool("memory.use_both_memory_and_lora") && !c.get_bool("memory.use_memory_adapter"))
                  err.push_back("memory.use_both_memory_and_lora requires memory.use_memory_adapter, which is false; "
                                "set memory.use_memory_adapter: true or memory.use_both_memory_and_lora: false");
              }});
}

// Tokens of one micro-batch (batch_size x max_length; README.md, "Limits on input sizes"): the data's token and
// mask buffers alone take 9 bytes a token, the activations far more (data::BatchIterator::next_batch has its
// own, looser safety net).
constexpr int64_t kMaxBatchTokens = int64_t{1} << 30;

void add_training_rules(Schema& s) {
  s.add_rule({"`training.batch_size` x `training.max_length` (the tokens of one micro-batch) is at most 2^30 "
              "(1073741824).",
              {"training.batch_size", "training.max_length"},
              [](const Config& c, Errors& err) {
                const int64_t batch = c.get_int("training.batch_size"), length = c.get_int("training.max_length");
                int64_t tokens = 0;
                if (__builtin_mul_overflow(batch, length, &tokens) || tokens > kMaxBatchTokens)
                  err.push_back(kv(c, "training.batch_size") + " x " + kv(c, "training.max_length") +
                                " tokens per micro-batch is more than the limit of " + num(kMaxBatchTokens));
              }});
  s.add_rule({"`training.warmup_ratio`, when set, is in [0, 1].",
              {"training.warmup_ratio"},
              [](const Config& c, Errors& err) {
                if (auto r = c.get_opt_float("training.warmup_ratio"); r && (*r < 0.0 || *r > 1.0))
                  err.push_back(kv(c, "training.warmup_ratio") + " must be in [0, 1]");
              }});
  s.add_rule({"`training.warmup_steps` <= `training.max_steps` when neither `training.warmup_ratio` nor "
              "`training.num_epochs` is set.",
              {"training.warmup_ratio", "training.num_epochs", "training.warmup_steps", "training.max_steps"},
              [](const Config& c, Errors& err) {
                if (!c.get_opt_float("training.warmup_ratio") && !c.get_opt_int("training.num_epochs") &&
                    c.get_int("training.warmup_steps") > c.get_int("training.max_steps"))
                  err.push_back(kv(c, "training.warmup_steps") + " must be <= " + kv(c, "training.max_steps"));
              }});
  s.add_rule({"`training.early_stopping` requires `training.eval_split` (null disables evaluation).",
              {"training.early_stopping", "training.eval_split"},
              [](const Config& c, Errors& err) {
                if (c.get_bool("training.early_stopping") && !c.get_opt_string("training.eval_split"))
                  err.push_back("training.early_stopping requires training.eval_split, which is null (no evaluation "
                                "to watch)");
              }});
}

}  // namespace

namespace config_detail {

void add_builtin_rules(Schema& schema) {
  add_model_attention_rules(schema);
  add_memory_rules(schema);
  add_training_rules(schema);
}

}  // namespace config_detail

}  // namespace memtx
