// tests/config/test_validate.cpp: every cross-field rule of Config::validate(), each once accepted and once
// rejected with the message naming the keys; the defaults validate.
#include "helpers.hpp"

using memtx::Config;
using memtx_test::error_of;
using memtx_test::load;

namespace {

void accepts(const std::string& yaml) {
  Config c = load(yaml);
  try {
    c.validate();
  } catch (const memtx::Error& e) {
    ADD_FAILURE() << "rejected:\n" << yaml << "\nwith: " << e.what();
  }
}

// Loads (must succeed) and returns the validate() message (which must exist).
std::string rejects(const std::string& yaml) {
  Config c = load(yaml);
  return error_of([&] { c.validate(); });
}

}  // namespace

TEST(ConfigValidate, DefaultsAreValid) { memtx_test::defaults().validate(); }

TEST(ConfigValidate, HiddenDimDivisibleByHeads) {
  accepts("model: {hidden_dim: 256, num_heads: 4}");
  accepts("model: {hidden_dim: 250, num_heads: 4, head_dim: 64}");  // explicit head size
  EXPECT_EQ(rejects("model: {hidden_dim: 250, num_heads: 4}"),
            "model.hidden_dim (250) is not divisible by model.num_heads (4); choose sizes that divide or set "
            "model.head_dim");
}

TEST(ConfigValidate, KvGroupsDivideHeads) {
  accepts("model: {num_heads: 12}\nattention: {n_kv_group: 4}");
  accepts("model: {num_heads: 12}\nattention: {n_kv_group: 12}");
  EXPECT_EQ(rejects("model: {num_heads: 12}\nattention: {n_kv_group: 5}"),
            "attention.n_kv_group (5) must divide model.num_heads (12)");
  EXPECT_EQ(rejects("model: {num_heads: 4}\nattention: {n_kv_group: 8}"),
            "attention.n_kv_group (8) must divide model.num_heads (4)");
}

TEST(ConfigValidate, RopeDim) {
  accepts("model: {hidden_dim: 256, num_heads: 4, rope_dim: 32}");
  accepts("model: {hidden_dim: 256, num_heads: 4, rope_dim: 64}");
  EXPECT_EQ(rejects("model: {hidden_dim: 256, num_heads: 4, rope_dim: 33}"),
            "model.rope_dim (33) must be even (RoPE rotates pairs of channels)");
  EXPECT_EQ(rejects("model: {hidden_dim: 256, num_heads: 4, rope_dim: 128}"),
            "model.rope_dim (128) must be <= the query/key head size 64 (model.hidden_dim / model.num_heads)");
  EXPECT_EQ(rejects("model: {num_heads: 4, head_dim: 32, rope_dim: 40}"),
            "model.rope_dim (40) must be <= the query/key head size 32 (model.head_dim)");
  EXPECT_EQ(rejects("model: {rope_dim: 40}\nattention: {n_qk_head_dim: 16}"),
            "model.rope_dim (40) must be <= the query/key head size 16 (attention.n_qk_head_dim)");
}

TEST(ConfigValidate, RopeNeedsEvenHeadSize) {
  accepts("model: {hidden_dim: 252, num_heads: 4, use_rope: false}");
  accepts("model: {hidden_dim: 252, num_heads: 4, rope_dim: 62}");
  EXPECT_EQ(rejects("model: {hidden_dim: 252, num_heads: 4}"),
            "model.use_rope needs an even query/key head size, got 63 (model.hidden_dim / model.num_heads); set "
            "model.rope_dim to an even size or change the dimensions");
}

TEST(ConfigValidate, AttentionListNotEmpty) {
  accepts("attention: {attention_list: [causal]}");
  accepts("attention: {attention_list: null}");
  EXPECT_EQ(rejects("attention: {attention_list: []}"),
            "attention.attention_list must not be empty; use null to give every layer attention.attention_variant");
}

TEST(ConfigValidate, QkNormScaleNeedsQkNorm) {
  accepts("attention: {use_qk_norm: true, use_qk_norm_scale: true}");
  EXPECT_EQ(rejects("attention: {use_qk_norm_scale: true}"),
            "attention.use_qk_norm_scale requires attention.use_qk_norm: true");
}

TEST(ConfigValidate, WriteSparsityNeedsTheWriteGate) {
  accepts("infini_attention: {write_gate: true, write_sparsity: 0.05}");
  accepts("infini_attention: {write_sparsity: 0.0}");
  EXPECT_EQ(rejects("infini_attention: {write_sparsity: 0.05}"),
            "infini_attention.write_sparsity penalises the write weights of infini_attention.write_gate, which is "
            "false");
}

TEST(ConfigValidate, FlashLoboOptionsNeedFlashLobo) {
  accepts("attention: {use_flash_lobo: true, use_flash_lobo_per_head: true}");
  accepts("attention: {use_flash_lobo: true, use_flash_obo_const: true, flash_lobo_log_const: -1.5}");
  EXPECT_EQ(rejects("attention: {use_flash_lobo_per_head: true}"),
            "attention.use_flash_lobo_per_head requires attention.use_flash_lobo: true");
  EXPECT_EQ(rejects("attention: {use_flash_obo_const: true}"),
            "attention.use_flash_obo_const requires attention.use_flash_lobo: true");
  EXPECT_EQ(rejects("attention: {use_flash_lobo: true, use_flash_lobo_per_head: true, use_flash_obo_const: true}"),
            "attention.use_flash_lobo_per_head and attention.use_flash_obo_const exclude each other (a constant "
            "sink has no per-head parameters)");
}

TEST(ConfigValidate, MlaRotaryDimEven) {
  accepts("attention: {mla_rotary_dim: 16}");
  EXPECT_EQ(rejects("attention: {mla_rotary_dim: 15}"),
            "attention.mla_rotary_dim (15) must be even (RoPE rotates pairs of channels)");
}

TEST(ConfigValidate, CustomPlacementIndices) {
  accepts("model: {num_layers: 12}\nmemory: {memory_layer_placement: custom, memory_layer_indices: [0, 1, 11]}");
  EXPECT_EQ(rejects("memory: {memory_layer_placement: custom}"),
            "memory.memory_layer_placement is custom but memory.memory_layer_indices is null; list the layers, "
            "e.g. [0, 1, 5]");
  EXPECT_EQ(rejects("memory: {memory_layer_placement: custom, memory_layer_indices: []}"),
            "memory.memory_layer_indices is empty with memory.memory_layer_placement custom; use placement none "
            "for no memory layers");
  EXPECT_EQ(rejects("model: {num_layers: 12}\nmemory: {memory_layer_placement: custom, memory_layer_indices: [0, 12]}"),
            "memory.memory_layer_indices[1] = 12 is outside [0, 12) (model.num_layers = 12)");
  EXPECT_EQ(rejects("memory: {memory_layer_placement: custom, memory_layer_indices: [3, 1, 3]}"),
            "memory.memory_layer_indices lists layer 3 more than once");
  EXPECT_EQ(rejects("memory: {memory_layer_indices: [0, 1]}"),
            "memory.memory_layer_indices is set but memory.memory_layer_placement is all; set the placement to "
            "custom (or the indices to null)");
  // Without memory layers the placement keys are not used and not checked.
  accepts("memory: {vanilla_mode: true, memory_layer_placement: custom}");
  accepts("memory: {use_memory_adapter: false, memory_layer_placement: custom}");
  accepts("memory: {memory_layer_placement: none, memory_layer_indices: [40]}");
}

TEST(ConfigValidate, FirstKLastKWithinLayers) {
  accepts("model: {num_layers: 6}\nmemory: {memory_layer_placement: first_k, memory_layer_k: 6}");
  accepts("model: {num_layers: 4}\nmemory: {memory_layer_placement: every_n, memory_layer_k: 6}");
  EXPECT_EQ(rejects("model: {num_layers: 4}\nmemory: {memory_layer_placement: last_k, memory_layer_k: 5}"),
            "memory.memory_layer_k (5) must be <= model.num_layers (4) for memory.memory_layer_placement last_k");
  EXPECT_EQ(rejects("model: {num_layers: 4}\nmemory: {memory_layer_placement: first_k}"),
            "memory.memory_layer_k (5) must be <= model.num_layers (4) for memory.memory_layer_placement first_k");
}

TEST(ConfigValidate, MemoryLayerNAtLeastOne) {
  accepts("memory: {memory_layer_placement: every_n, memory_layer_n: 1}");
  // Enforced as soon as the value is given (a bound), so validate() never sees a smaller one.
  EXPECT_EQ(error_of([] { load("memory: {memory_layer_n: 0}"); }),
            "<string>:1: memory.memory_layer_n: expected int in [1, 4096], got 0");
}

TEST(ConfigValidate, Chapters) {
  accepts("memory: {use_chapters: true, num_memory_tokens: 100000, num_chapters: 1000, top_k_chapters: 10}");
  accepts("memory: {use_chapters: true, num_memory_tokens: 1000, num_chapters: 10, tokens_per_chapter: 100,"
          " top_k_chapters: 5}");
  accepts("memory: {use_chapters: false, num_memory_tokens: 10, num_chapters: 100}");  // not used: not checked
  EXPECT_EQ(rejects("memory: {use_chapters: true, num_chapters: 10, top_k_chapters: 20}"),
            "memory.top_k_chapters (20) must be <= memory.num_chapters (10)");
  EXPECT_EQ(rejects("memory: {use_chapters: true, num_memory_tokens: 1024, num_chapters: 10, tokens_per_chapter: 100,"
                    " top_k_chapters: 2}"),
            "memory.tokens_per_chapter (100) * memory.num_chapters (10) = 1000 must equal "
            "memory.num_memory_tokens (1024)");
  EXPECT_EQ(rejects("memory: {use_chapters: true, num_memory_tokens: 50, num_chapters: 100}"),
            "memory.num_memory_tokens (50) must be >= memory.num_chapters (100) so that every chapter holds at "
            "least one memory token");
}

TEST(ConfigValidate, QuantBits) {
  accepts("memory: {quantize_memory: true, memory_quant_bits: 4}");
  accepts("memory: {quantize_memory: true, memory_quant_bits: 8}");
  EXPECT_EQ(rejects("memory: {quantize_memory: true, memory_quant_bits: 6}"),
            "memory.memory_quant_bits must be 4 or 8, got 6");
}

TEST(ConfigValidate, LoraTargets) {
  accepts("memory: {use_lora: true, lora_targets: [q_proj]}");
  accepts("memory: {use_lora: false, lora_targets: []}");
  EXPECT_EQ(rejects("memory: {use_lora: true, lora_targets: []}"),
            "memory.lora_targets must not be empty when memory.use_lora is true; name the projections, e.g. "
            "[q_proj, v_proj]");
  EXPECT_EQ(rejects("memory: {use_both_memory_and_lora: true, lora_targets: []}"),
            "memory.lora_targets must not be empty when memory.use_both_memory_and_lora is true; name the "
            "projections, e.g. [q_proj, v_proj]");
}

TEST(ConfigValidate, BothNeedsMemoryAdapter) {
  accepts("memory: {use_both_memory_and_lora: true}");
  EXPECT_EQ(rejects("memory: {use_both_memory_and_lora: true, use_memory_adapter: false}"),
            "memory.use_both_memory_and_lora requires memory.use_memory_adapter, which is false; set "
            "memory.use_memory_adapter: true or memory.use_both_memory_and_lora: false");
}

TEST(ConfigValidate, WarmupRatioInUnitInterval) {
  accepts("training: {warmup_ratio: 0.0}");
  accepts("training: {warmup_ratio: 1}");
  // A bound: rejected when given.
  EXPECT_EQ(error_of([] { load("training: {warmup_ratio: 1.01}"); }),
            "<string>:1: training.warmup_ratio: expected float in [0, 1] or null, got 1.01");
}

TEST(ConfigValidate, WarmupStepsWithinMaxSteps) {
  accepts("training: {max_steps: 100, warmup_steps: 100}");
  accepts("training: {max_steps: 100, warmup_steps: 500, num_epochs: 3}");  // steps come from the epochs
  accepts("training: {max_steps: 100, warmup_steps: 500, warmup_ratio: 0.1}");  // the ratio wins
  EXPECT_EQ(rejects("training: {max_steps: 100, warmup_steps: 101}"),
            "training.warmup_steps (101) must be <= training.max_steps (100)");
}

TEST(ConfigValidate, EarlyStoppingNeedsEvaluation) {
  accepts("training: {early_stopping: true}");
  accepts("training: {early_stopping: false, eval_split: null}");
  EXPECT_EQ(rejects("training: {early_stopping: true, eval_split: null}"),
            "training.early_stopping requires training.eval_split, which is null (no evaluation to watch)");
}

TEST(ConfigValidate, NoEmptyStrings) {
  accepts("training: {output_dir: out}");
  EXPECT_EQ(rejects("training: {output_dir: \"\"}"), "training.output_dir must not be the empty string");
  EXPECT_EQ(rejects("model: {base_model_name: ''}"), "model.base_model_name must not be the empty string (use null for none)");
  EXPECT_EQ(rejects("attention: {attention_variant: ''}"), "attention.attention_variant must not be the empty string");
  EXPECT_EQ(rejects("attention: {attention_list: [causal, '']}"),
            "attention.attention_list[1] must not be the empty string");
}

TEST(ConfigValidate, SeveralErrorsReportedTogether) {
  std::string msg = rejects("model: {num_heads: 12}\nattention: {n_kv_group: 5, mla_rotary_dim: 7}");
  EXPECT_CONTAINS(msg, "2 configuration errors:\n  ");
  EXPECT_CONTAINS(msg, "attention.n_kv_group (5) must divide model.num_heads (12)");
  EXPECT_CONTAINS(msg, "attention.mla_rotary_dim (7) must be even");
}

TEST(ConfigValidate, SeedRecommendedConfigurations) {
  accepts("model: {hidden_dim: 512, num_heads: 8, num_layers: 6}\n"
          "memory: {num_memory_tokens: 512, use_chapters: false}\n"
          "training: {max_steps: 1000, batch_size: 8}");
  accepts("model: {base_model_name: models/Qwen2.5-1.5B, freeze_base_model: true, num_layers: 28}\n"
          "memory: {num_memory_tokens: 2048, memory_layer_placement: custom,\n"
          "         memory_layer_indices: [0, 1, 2, 3, 4, 23, 24, 25, 26, 27], use_low_rank_memory: true,\n"
          "         memory_rank: 256}");
  accepts("memory: {num_memory_tokens: 100000, use_chapters: true, num_chapters: 1000, top_k_chapters: 10,\n"
          "         use_load_balance_loss: true}");
  accepts("memory: {vanilla_mode: true}");
  accepts("memory: {use_memory_adapter: true, use_lora: false}");
  accepts("memory: {use_memory_adapter: false, use_lora: true}");
  accepts("memory: {use_both_memory_and_lora: true}");
}

TEST(ConfigValidate, WorksWithASchemaLackingBuiltinKeys) {
  auto schema = std::make_shared<memtx::Schema>();
  memtx::OptionDef d;
  d.key = "plug.name";
  d.type = memtx::ValueType::String;
  d.default_value = "x";
  d.doc = "A name.";
  schema->add(d);
  Config c(schema);
  c.validate();
  c.set("plug.name", "");
  EXPECT_EQ(error_of([&] { c.validate(); }), "plug.name must not be the empty string");
}
