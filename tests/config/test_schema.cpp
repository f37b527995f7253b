// tests/config/test_schema.cpp: the shipped schema (builtin plus the shipped plugins' keys) against the seed
// documents (every key present, defaults equal to the seeds'), the split between host and plugin keys,
// schema consistency, add() rules, nearest_key and resolve_key.
#include <algorithm>
#include <set>

#include "helpers.hpp"

using memtx::OptionDef;
using memtx::Schema;
using memtx::StatusCode;
using memtx::Value;
using memtx::ValueType;
using memtx_test::error_of;
using Strs = std::vector<std::string>;
using Ints = std::vector<int64_t>;

namespace {

// Every key with its default: the seeds' sections (000: infini_attention, 001: model/memory/training,
// 002: the attention arguments) followed by memtx's own model keys and memtx's attention additions.
const std::vector<std::pair<std::string, Value>>& expected_defaults() {
  static const std::vector<std::pair<std::string, Value>> table = {
      // seed 001, model:
      {"model.hidden_dim", 768},
      {"model.num_heads", 12},
      {"model.num_layers", 12},
      {"model.intermediate_dim", 3072},
      {"model.vocab_size", 32000},
      {"model.max_seq_len", 8192},
      {"model.use_rope", true},
      {"model.rope_theta", 10000.0},
      {"model.dropout", 0.0},
      {"model.attention_dropout", 0.0},
      {"model.norm_eps", 1e-6},
      {"model.use_rms_norm", true},
      {"model.base_model_name", Value()},
      {"model.freeze_base_model", true},
      {"model.use_flash_attention", true},
      // memtx's model keys
      {"model.head_dim", Value()},
      {"model.mlp_type", "swiglu"},
      {"model.mlp_bias", false},
      {"model.attention_bias", false},
      {"model.tie_embeddings", true},
      {"model.rope_layout", "half"},
      {"model.rope_dim", Value()},
      {"model.rope_scaling", "none"},
      {"model.rope_scaling_factor", 1.0},
      {"model.rope_original_max_seq_len", Value()},
      {"model.rope_low_freq_factor", 1.0},
      {"model.rope_high_freq_factor", 4.0},
      {"model.rope_yarn_beta_fast", 32.0},
      {"model.rope_yarn_beta_slow", 1.0},
      {"model.rope_yarn_attention_factor", Value()},
      {"model.init_std", 0.02},
      {"model.use_mlp", true},
      {"model.device", "auto"},
      {"model.dtype", "float32"},
      {"model.seed", 1234},
      {"model.tokenizer", "byte"},  // memtx: the model's tokenizer
      // seed 002, attention arguments
      {"attention.attention_variant", "causal"},
      {"attention.attention_list", Value()},
      {"attention.disable_flash_attention", false},
      {"attention.use_qk_norm", false},
      {"attention.use_qk_norm_scale", false},
      {"attention.attn_logit_softcapping", Value()},
      {"attention.n_kv_group", Value()},
      {"attention.use_flash_lobo", false},
      {"attention.use_flash_lobo_per_head", false},
      {"attention.use_flash_obo_const", false},
      {"attention.flash_lobo_log_const", 0.0},
      {"attention.mla_latent_dim", Value()},
      {"attention.mla_rotary_dim", 32},
      {"attention.use_mla_lobo", false},
      {"attention.mla_lobo_init", 0.0},
      {"attention.mla_q_lora_rank", Value()},    // memtx: DeepSeek's q_lora_rank, null = no compression
      {"attention.mla_nope_head_dim", Value()},
      {"attention.mla_v_head_dim", Value()},
      {"attention.mla_cache", "latent"},
      {"attention.n_latent", 4},
      {"attention.triadic_loops", 1},
      {"attention.mod_fn", "cooperation"},
      {"attention.n_qk_head_dim", Value()},
      {"attention.n_v_head_dim", Value()},
      {"attention.n_cproj", Value()},
      {"attention.use_concat_heads", Value()},  // memtx: null = the variant's natural choice
      {"attention.sliding_window", Value()},
      {"attention.sliding_window_layers", Value()},
      {"attention.ssm_mamba_expand", 2},
      {"attention.ssm_conv_kernel_size", 3},
      {"attention.ssm_dt_rank", 8},
      {"attention.ssm_d_state", 16},
      {"attention.ssm_io_bias", false},
      {"attention.ssm_scan", "auto"},  // memtx: which selective scan
      {"attention.co4_causal", true},  // memtx: the causal CO4 form by default
      // seed 001, memory:
      {"memory.vanilla_mode", false},
      {"memory.num_memory_tokens", 1024},
      {"memory.memory_dim", Value()},
      {"memory.memory_layer_placement", "all"},
      {"memory.memory_layer_k", 5},
      {"memory.memory_layer_n", 3},
      {"memory.memory_layer_indices", Value()},
      {"memory.memory_sharing", "shared"},
      {"memory.memory_sharing_k", 2},
      {"memory.memory_block_variant", "A"},
      {"memory.use_low_rank_memory", false},
      {"memory.memory_rank", 64},
      {"memory.low_rank_mode", "factorized"},
      {"memory.use_low_rank_projections", false},
      {"memory.projection_rank", 64},
      {"memory.use_chapters", false},
      {"memory.num_chapters", 100},
      {"memory.tokens_per_chapter", Value()},
      {"memory.top_k_chapters", 20},
      {"memory.routing_strategy_train", "sequence"},
      {"memory.routing_strategy_inference", "sequence"},
      {"memory.routing_window_size", 128},  // memtx: the rolling router's window
      {"memory.use_load_balance_loss", true},
      {"memory.load_balance_coefficient", 0.01},
      {"memory.use_auxiliary_loss", false},
      {"memory.auxiliary_loss_coefficient", 0.01},
      {"memory.use_z_loss", false},
      {"memory.z_loss_coefficient", 0.001},
      {"memory.quantize_memory", false},
      {"memory.memory_quant_bits", 8},
      {"memory.wo_init_zero", true},
      {"memory.memory_init_std", 0.02},
      {"memory.use_lora", false},
      {"memory.lora_rank", 16},
      {"memory.lora_alpha", 32.0},
      {"memory.lora_dropout", 0.05},
      {"memory.lora_targets", Strs{"q_proj", "v_proj"}},
      {"memory.use_memory_adapter", true},
      {"memory.use_both_memory_and_lora", false},
      // seed 001, training:
      {"training.memory_lr", 1e-4},
      {"training.lora_lr", 1e-4},
      {"training.base_model_lr", 1e-5},
      {"training.training_mode", "instruction_finetuning"},
      {"training.dataset_name", "HuggingFaceH4/ultrachat_200k"},
      {"training.dataset_subset", Value()},
      {"training.dataset_split", "train"},
      {"training.eval_split", "test"},
      {"training.text_field", Strs{"messages"}},
      {"training.max_length", 8192},
      {"training.data_root", "data"},  // memtx: local datasets, held-out eval, data order
      {"training.eval_fraction", 0.05},
      {"training.data_seed", 0},
      {"training.distributed_strategy", "ddp"},
      {"training.num_gpus", 1},
      {"training.fsdp_sharding_strategy", "FULL_SHARD"},
      {"training.batch_size", 4},
      {"training.gradient_accumulation_steps", 4},
      {"training.num_epochs", Value()},
      {"training.max_steps", 10000},
      {"training.warmup_steps", 100},
      {"training.warmup_ratio", Value()},
      {"training.optimizer", "adamw"},
      {"training.weight_decay", 0.01},
      {"training.adam_beta1", 0.9},
      {"training.adam_beta2", 0.95},
      {"training.adam_epsilon", 1e-8},
      {"training.max_grad_norm", 1.0},
      {"training.scheduler", "cosine"},
      {"training.min_lr_ratio", 0.1},
      {"training.mixed_precision", "bf16"},
      {"training.save_precision", "fp32"},
      {"training.gradient_checkpointing", true},
      {"training.save_steps", 500},
      {"training.eval_steps", 500},
      {"training.save_total_limit", 3},
      {"training.save_best_model", true},
      {"training.early_stopping", false},
      {"training.early_stopping_patience", 3},
      {"training.early_stopping_threshold", 0.0},
      {"training.logging_steps", 10},
      {"training.log_to_wandb", false},
      {"training.wandb_project", "memory-transformer"},
      {"training.wandb_run_name", Value()},
      {"training.output_dir", "./outputs"},
      {"training.resume_from_checkpoint", Value()},
      {"training.eval_max_batches", Value()},  // memtx: evaluation size, non-finite handling, CPU threads
      {"training.on_nonfinite_loss", "stop"},
      {"training.max_skipped_steps", 10},
      {"training.num_threads", Value()},
      // seed 000, infini_attention:
      {"infini_attention.segment_length", 64},
      {"infini_attention.detach_every", 0},  // memtx: truncated back-propagation through the state
      {"infini_attention.turn_on_memory", true},
      {"infini_attention.balance_init_type", "zeros"},
      {"infini_attention.balance_act_type", "orig_sigmoid"},
      {"infini_attention.balance_factor_lr", 0.001},
      {"infini_attention.logging", false},
      {"infini_attention.logging_interval", 100},
      {"infini_attention.log_grad", false},
      {"infini_attention.log_segment_acts", false},
      // memtx's plugin additions (declared by the linear and infini plugins)
      {"attention.linear_chunk_size", 64},
      {"infini_attention.memory_update", "linear"},
      {"infini_attention.write_gate", false},
      {"infini_attention.write_sparsity", 0.0},
      {"infini_attention.local_segments", 1},
  };
  return table;
}

}  // namespace

TEST(ConfigSchema, EverySeedKeyExistsAndNothingElse) {
  const Schema& s = *memtx_test::shipped();
  std::set<std::string> expected;
  for (const auto& [key, def] : expected_defaults()) {
    EXPECT_NE(s.find(key), nullptr) << "missing key " << key;
    expected.insert(key);
  }
  for (const auto& d : s.options()) EXPECT_TRUE(expected.count(d.key)) << "key not in the test's list: " << d.key;
  EXPECT_EQ(s.options().size(), expected.size());
}

// The host defines only what the host reads: every key a shipped plugin declares is absent from the builtin
// schema, and the builtin schema keeps the attention keys the model reads itself.
TEST(ConfigSchema, PluginKeysLiveInThePlugins) {
  const Schema& host = Schema::builtin();
  size_t plugin_keys = 0;
  for (const auto& keys : memtx_test::shipped_plugin_keys()) {
    for (const auto& d : keys.options) {
      EXPECT_EQ(host.find(d.key), nullptr) << d.key << " is declared by a plugin and by the host";
      ++plugin_keys;
    }
    for (const auto& rule : keys.rules)
      for (const auto& r : host.rules()) EXPECT_NE(r.text, rule.text) << "a plugin rule is also the host's";
  }
  EXPECT_GE(plugin_keys, 40u);
  for (const char* key : {"attention.attention_variant", "attention.attention_list", "attention.n_kv_group",
                          "attention.disable_flash_attention", "infini_attention.segment_length"})
    EXPECT_NE(host.find(key), nullptr) << key;
  EXPECT_EQ(Schema::builtin().sections(), (Strs{"model", "attention", "memory", "training", "infini_attention"}));
}

TEST(ConfigSchema, DefaultsEqualTheSeeds) {
  const Schema& s = *memtx_test::shipped();
  memtx::Config c = memtx_test::defaults();
  for (const auto& [key, want] : expected_defaults()) {
    const OptionDef* d = s.find(key);
    ASSERT_NE(d, nullptr) << key;
    Value got = c.get(key);
    if (d->type == ValueType::Float && !want.is_null()) {
      EXPECT_EQ(got.type(), ValueType::Float) << key;
      EXPECT_DOUBLE_EQ(got.as_float(), want.as_float()) << key;
    } else {
      EXPECT_EQ(got, want) << key << ": " << got.to_string() << " vs " << want.to_string();
    }
    EXPECT_EQ(d->default_value, got) << key;
    EXPECT_FALSE(c.is_set(key)) << key;
  }
}

TEST(ConfigSchema, TypesChoicesAndBoundsOfKeyKeys) {
  const Schema& s = *memtx_test::shipped();
  EXPECT_EQ(s.find("model.hidden_dim")->type, ValueType::Int);
  EXPECT_EQ(s.find("model.rope_theta")->type, ValueType::Float);
  EXPECT_EQ(s.find("model.base_model_name")->type, ValueType::String);
  EXPECT_TRUE(s.find("model.base_model_name")->nullable);
  EXPECT_EQ(s.find("attention.attention_list")->type, ValueType::StringList);
  EXPECT_TRUE(s.find("attention.attention_variant")->choices.empty());  // plugins add names
  EXPECT_EQ(s.find("attention.attn_logit_softcapping")->type, ValueType::Float);
  EXPECT_TRUE(s.find("attention.attn_logit_softcapping")->nullable);
  EXPECT_TRUE(s.find("attention.attn_logit_softcapping")->min_exclusive);
  EXPECT_EQ(s.find("attention.use_concat_heads")->type, ValueType::Bool);
  EXPECT_TRUE(s.find("attention.use_concat_heads")->nullable);
  EXPECT_EQ(s.find("memory.memory_layer_indices")->type, ValueType::IntList);
  EXPECT_EQ(s.find("memory.lora_targets")->type, ValueType::StringList);
  EXPECT_EQ(s.find("training.text_field")->type, ValueType::StringList);
  EXPECT_EQ(s.find("memory.lora_alpha")->type, ValueType::Float);

  auto choices = [&](const char* key) { return s.find(key)->choices; };
  EXPECT_EQ(choices("memory.memory_layer_placement"),
            (Strs{"all", "first_k", "last_k", "every_n", "custom", "none"}));
  EXPECT_EQ(choices("memory.memory_sharing"), (Strs{"shared", "per_layer", "every_k_layers"}));
  EXPECT_EQ(choices("memory.memory_block_variant"), (Strs{"A", "B"}));
  EXPECT_EQ(choices("memory.low_rank_mode"), (Strs{"factorized", "reduced_dim"}));
  EXPECT_EQ(choices("memory.routing_strategy_train"), (Strs{"sequence", "rolling", "token"}));
  EXPECT_EQ(choices("memory.routing_strategy_inference"), (Strs{"sequence", "rolling", "token"}));
  EXPECT_EQ(choices("training.optimizer"), (Strs{"adamw", "adam", "sgd"}));
  EXPECT_EQ(choices("training.scheduler"), (Strs{"cosine", "linear", "constant"}));
  EXPECT_EQ(choices("training.mixed_precision"), (Strs{"no", "fp16", "bf16"}));
  EXPECT_EQ(choices("training.save_precision"), (Strs{"fp32", "fp16", "bf16"}));
  EXPECT_EQ(choices("training.training_mode"), (Strs{"instruction_finetuning", "pretraining"}));
  EXPECT_EQ(choices("training.distributed_strategy"), (Strs{"ddp", "fsdp"}));
  EXPECT_EQ(choices("training.fsdp_sharding_strategy"),
            (Strs{"FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"}));
  EXPECT_EQ(choices("attention.mod_fn"), (Strs{"cooperation", "tm1", "tm2", "tm3", "tm4"}));
  EXPECT_EQ(choices("infini_attention.balance_init_type"), (Strs{"zeros", "ones", "normal", "closed"}));
  EXPECT_EQ(choices("infini_attention.balance_act_type"), (Strs{"orig_sigmoid", "hard_sigmoid", "clamp"}));
  EXPECT_EQ(choices("model.mlp_type"), (Strs{"swiglu", "gelu"}));
  EXPECT_EQ(choices("model.rope_layout"), (Strs{"half", "interleaved"}));
  EXPECT_EQ(choices("model.device"), (Strs{"auto", "cpu", "cuda"}));
  EXPECT_EQ(choices("model.dtype"), (Strs{"float32", "bfloat16", "float16"}));

  EXPECT_EQ(*s.find("model.dropout")->min, 0.0);
  EXPECT_EQ(*s.find("model.dropout")->max, 1.0);
  EXPECT_TRUE(s.find("model.dropout")->max_exclusive);
  EXPECT_EQ(*s.find("training.warmup_ratio")->max, 1.0);
  EXPECT_FALSE(s.find("training.warmup_ratio")->max_exclusive);
  EXPECT_EQ(*s.find("training.memory_lr")->min, 0.0);
}

TEST(ConfigSchema, EveryOptionIsDocumentedAndConsistent) {
  for (const auto& d : memtx_test::shipped()->options()) {
    EXPECT_FALSE(d.doc.empty()) << d.key;
    EXPECT_FALSE(d.used_by.empty()) << d.key;
    EXPECT_NE(d.type, ValueType::Null) << d.key;
    if (d.default_value.is_null()) {
      EXPECT_TRUE(d.nullable) << d.key;
    } else {
      EXPECT_EQ(d.default_value.type(), d.type) << d.key;
    }
    // One or two sentences.
    EXPECT_LE(std::count(d.doc.begin(), d.doc.end(), '.'), 6) << d.key;
  }
}

TEST(ConfigSchema, SectionsInOrder) {
  EXPECT_EQ(memtx_test::shipped()->sections(), (Strs{"model", "attention", "memory", "training", "infini_attention"}));
}

TEST(ConfigSchema, BareNamesAreUniqueSoEveryKeyResolves) {
  const Schema& s = *memtx_test::shipped();
  for (const auto& d : s.options()) {
    std::string bare = d.key.substr(d.key.find('.') + 1);
    EXPECT_EQ(s.resolve_key(bare), d.key);
    EXPECT_EQ(s.resolve_key(d.key), d.key);
  }
}

TEST(ConfigSchema, NearestKey) {
  const Schema& s = *memtx_test::shipped();
  EXPECT_EQ(s.nearest_key("model.hiden_dim"), "model.hidden_dim");
  EXPECT_EQ(s.nearest_key("hiden_dim"), "model.hidden_dim");
  EXPECT_EQ(s.nearest_key("model.num_head"), "model.num_heads");
  EXPECT_EQ(s.nearest_key("modle.hidden_dim"), "model.hidden_dim");
  EXPECT_EQ(s.nearest_key("model.segment_length"), "infini_attention.segment_length");  // wrong section
  EXPECT_EQ(s.nearest_key("attention.n_kv_groups"), "attention.n_kv_group");
  EXPECT_EQ(s.nearest_key("training.lerning_rate"), "");  // nothing close: no guess
  EXPECT_EQ(s.nearest_key("xyzzy"), "");
  EXPECT_EQ(s.nearest_key("Model.Hidden_Dim"), "model.hidden_dim");
  EXPECT_EQ(s.nearest_key("training.wramup_steps"), "training.warmup_steps");  // swapped letters
}

TEST(ConfigSchema, ResolveKey) {
  const Schema& s = *memtx_test::shipped();
  EXPECT_EQ(s.resolve_key("n_kv_group"), "attention.n_kv_group");
  EXPECT_EQ(s.resolve_key("segment_length"), "infini_attention.segment_length");
  EXPECT_EQ(s.resolve_key(" model.hidden_dim "), "model.hidden_dim");
  std::string msg = error_of([&] { s.resolve_key("n_kv_groups"); });
  EXPECT_CONTAINS(msg, "unknown key 'n_kv_groups' (did you mean 'attention.n_kv_group'?)");
  msg = error_of([&] { s.resolve_key("model.hiden_dim"); });
  EXPECT_CONTAINS(msg, "unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?)");
  msg = error_of([&] { s.resolve_key("frobnicate"); });
  EXPECT_EQ(msg, "unknown key 'frobnicate'");

  Schema two;
  OptionDef a;
  a.key = "alpha.size";
  a.type = ValueType::Int;
  a.default_value = 1;
  a.doc = "x";
  two.add(a);
  a.key = "beta.size";
  two.add(a);
  msg = error_of([&] { two.resolve_key("size"); });
  EXPECT_CONTAINS(msg, "ambiguous key 'size': write it in full as one of alpha.size, beta.size");
}

TEST(ConfigSchema, AddRules) {
  Schema s;
  OptionDef d;
  d.key = "plug.width";
  d.type = ValueType::Int;
  d.default_value = 8;
  d.min = 1;
  d.doc = "Width.";
  s.add(d);
  ASSERT_NE(s.find("plug.width"), nullptr);

  // Identical again: no-op (a different doc keeps the first text).
  OptionDef same = d;
  same.doc = "Another text.";
  s.add(same);
  EXPECT_EQ(s.options().size(), 1u);
  EXPECT_EQ(s.find("plug.width")->doc, "Width.");

  OptionDef other_type = d;
  other_type.type = ValueType::Float;
  other_type.default_value = 8.0;
  std::string msg = error_of([&] { s.add(other_type); }, StatusCode::Duplicate);
  EXPECT_CONTAINS(msg, "option 'plug.width' is already declared as int; cannot declare it again as float");

  OptionDef other_default = d;
  other_default.default_value = 16;
  msg = error_of([&] { s.add(other_default); }, StatusCode::Duplicate);
  EXPECT_CONTAINS(msg, "already declared differently");

  for (const char* bad : {"width", "a.b.c", "Plug.width", ".x", "x.", "plug.wid th"}) {
    OptionDef m = d;
    m.key = bad;
    msg = error_of([&] { s.add(m); }, StatusCode::InvalidArgument);
    EXPECT_CONTAINS(msg, "is malformed");
  }
  OptionDef null_default = d;
  null_default.key = "plug.depth";
  null_default.default_value = Value();
  msg = error_of([&] { s.add(null_default); }, StatusCode::InvalidArgument);
  EXPECT_CONTAINS(msg, "the default is null but the option is not nullable");

  OptionDef out_of_bounds = d;
  out_of_bounds.key = "plug.depth";
  out_of_bounds.default_value = 0;
  msg = error_of([&] { s.add(out_of_bounds); }, StatusCode::InvalidArgument);
  EXPECT_CONTAINS(msg, "option 'plug.depth': bad default: expected int >= 1, got 0");

  OptionDef choices_on_int = d;
  choices_on_int.key = "plug.depth";
  choices_on_int.choices = {"a"};
  error_of([&] { s.add(choices_on_int); }, StatusCode::InvalidArgument);

  OptionDef null_type = d;
  null_type.key = "plug.depth";
  null_type.type = ValueType::Null;
  error_of([&] { s.add(null_type); }, StatusCode::InvalidArgument);

  // An int default for a float option is stored as a float.
  OptionDef f;
  f.key = "plug.scale";
  f.type = ValueType::Float;
  f.default_value = 2;
  s.add(f);
  EXPECT_EQ(s.find("plug.scale")->default_value.type(), ValueType::Float);

  // Re-declaring a builtin key identically (as a plugin might) is accepted.
  Schema copy = Schema::builtin();
  copy.add(*Schema::builtin().find("attention.n_kv_group"));
  EXPECT_EQ(copy.options().size(), Schema::builtin().options().size());
}

TEST(ConfigSchema, ConfigWithExtendedSchema) {
  auto schema = std::make_shared<Schema>(Schema::builtin());
  OptionDef d;
  d.key = "attention.my_plugin_width";
  d.type = ValueType::Int;
  d.default_value = 4;
  d.min = 1;
  d.doc = "A plugin's own option.";
  schema->add(d);
  memtx::Config c = memtx::Config::from_string(schema, "attention:\n  my_plugin_width: 9\n");
  EXPECT_EQ(c.get_int("attention.my_plugin_width"), 9);
  c.validate();
  EXPECT_CONTAINS(schema->markdown_reference(), "`my_plugin_width`");
}
