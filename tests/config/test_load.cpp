// tests/config/test_load.cpp: loading YAML and JSON (values, scalar rules, merging) and every loader error
// path with its exact message (file, line, key, value, expectation, suggestion).
#include "helpers.hpp"

using memtx::Config;
using memtx::StatusCode;
using memtx::Value;
using memtx_test::shipped;
using memtx_test::error_of;
using memtx_test::load;
using memtx_test::TempDir;
using Strs = std::vector<std::string>;
using Ints = std::vector<int64_t>;

TEST(ConfigLoad, Yaml) {
  Config c = load(R"(# a comment
model:
  hidden_dim: 256
  num_heads: 4
  rope_theta: 500000      # an int for a float key
  base_model_name: models/Qwen2.5-1.5B
attention:
  attention_list: [causal, infini]
  attn_logit_softcapping: 30.0
memory:
  memory_layer_placement: custom
  memory_layer_indices:
    - 0
    - 3
training:
  memory_lr: 1e-4         # a string to YAML 1.1 readers; a float here
  text_field: text        # one string: a one-element list
  mixed_precision: no     # the string "no", not a YAML 1.1 boolean
infini_attention:
  segment_length: 128
)");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  EXPECT_EQ(c.get_int("model.num_heads"), 4);
  EXPECT_EQ(c.get("model.rope_theta"), Value(500000.0));
  EXPECT_EQ(c.get_string("model.base_model_name"), "models/Qwen2.5-1.5B");
  EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"causal", "infini"}));
  EXPECT_EQ(c.get_opt_float("attention.attn_logit_softcapping"), 30.0);
  EXPECT_EQ(c.get_int_list("memory.memory_layer_indices"), (Ints{0, 3}));
  EXPECT_DOUBLE_EQ(c.get_float("training.memory_lr"), 1e-4);
  EXPECT_EQ(c.get_string_list("training.text_field"), (Strs{"text"}));
  EXPECT_EQ(c.get_string("training.mixed_precision"), "no");
  EXPECT_EQ(c.get_int("infini_attention.segment_length"), 128);
  EXPECT_TRUE(c.is_set("model.hidden_dim"));
  EXPECT_FALSE(c.is_set("model.num_layers"));
  EXPECT_EQ(c.get_int("model.num_layers"), 12);
}

TEST(ConfigLoad, Json) {
  Config c = load(R"({
  "model": {"hidden_dim": 256, "base_model_name": null, "use_rope": false, "rope_theta": 1e6},
  "attention": {"attention_list": ["causal", "ssm"], "n_kv_group": 2},
  "training": {"text_field": ["instruction", "input", "output"], "warmup_ratio": 0.05}
})");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  EXPECT_FALSE(c.get_opt_string("model.base_model_name").has_value());
  EXPECT_FALSE(c.get_bool("model.use_rope"));
  EXPECT_DOUBLE_EQ(c.get_float("model.rope_theta"), 1e6);
  EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"causal", "ssm"}));
  EXPECT_EQ(c.get_opt_int("attention.n_kv_group"), 2);
  EXPECT_EQ(c.get_string_list("training.text_field"), (Strs{"instruction", "input", "output"}));
  EXPECT_DOUBLE_EQ(*c.get_opt_float("training.warmup_ratio"), 0.05);
}

TEST(ConfigLoad, JsonFromFileAndErrorLine) {
  TempDir dir;
  Config c = Config::from_file(shipped(), dir.write("c.json", "{\"model\": {\"num_layers\": 2}}"));
  EXPECT_EQ(c.get_int("model.num_layers"), 2);
  std::string path = dir.write("bad.json", "{\n  \"model\": {\n    \"num_layers\": \"two\"\n  }\n}\n");
  std::string msg = error_of([&] { Config::from_file(shipped(), path); });
  EXPECT_EQ(msg, path + ":3: model.num_layers: expected int in [1, 4096], got 'two'");
}

TEST(ConfigLoad, EmptyDocumentsAndSections) {
  Config c = load("");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 768);
  load("# only a comment\n");
  load("~\n");
  c = load("model:\nmemory:\n");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 768);
}

TEST(ConfigLoad, DottedKeysAtTopLevel) {
  Config c = load("model.hidden_dim: 128\nattention.n_kv_group: 4\n");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 128);
  EXPECT_EQ(c.get_opt_int("attention.n_kv_group"), 4);
}

TEST(ConfigLoad, ScalarRules) {
  // Null: null, ~, nothing.
  Config c = load("model:\n  head_dim: null\n  rope_dim: ~\n  base_model_name:\n");
  EXPECT_FALSE(c.get_opt_int("model.head_dim"));
  EXPECT_FALSE(c.get_opt_int("model.rope_dim"));
  EXPECT_FALSE(c.get_opt_string("model.base_model_name"));
  EXPECT_TRUE(c.is_set("model.base_model_name"));
  // Booleans: true/false, True/False.
  c = load("model:\n  use_rope: False\n  mlp_bias: True\n  tie_embeddings: false\n");
  EXPECT_FALSE(c.get_bool("model.use_rope"));
  EXPECT_TRUE(c.get_bool("model.mlp_bias"));
  EXPECT_FALSE(c.get_bool("model.tie_embeddings"));
  // Integral floats for int keys: accepted as the integer.
  c = load("model:\n  num_layers: 2.0\ntraining:\n  max_steps: 1e5\n");
  EXPECT_EQ(c.get("model.num_layers"), Value(2));
  EXPECT_EQ(c.get_int("training.max_steps"), 100000);
  // Float spellings.
  c = load("training:\n  adam_epsilon: 1.0e-8\n  lora_lr: 3E-4\n  base_model_lr: .5\n  memory_lr: +2\n");
  EXPECT_DOUBLE_EQ(c.get_float("training.adam_epsilon"), 1e-8);
  EXPECT_DOUBLE_EQ(c.get_float("training.lora_lr"), 3e-4);
  EXPECT_DOUBLE_EQ(c.get_float("training.base_model_lr"), 0.5);
  EXPECT_DOUBLE_EQ(c.get_float("training.memory_lr"), 2.0);
  // Quoted numbers are read as numbers; quoted words are text for string keys.
  c = load("model:\n  hidden_dim: \"256\"\n  base_model_name: \"true\"\ntraining:\n  wandb_run_name: 2024\n");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  EXPECT_EQ(c.get_string("model.base_model_name"), "true");
  EXPECT_EQ(c.get_string("training.wandb_run_name"), "2024");
  // Lists: flow, block, single string; null for a nullable list.
  c = load("attention:\n  attention_list:\n    - causal\n    - ssm\nmemory:\n  lora_targets: q_proj\n");
  EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"causal", "ssm"}));
  EXPECT_EQ(c.get_string_list("memory.lora_targets"), (Strs{"q_proj"}));
  c = load("attention:\n  attention_list: null\nmemory:\n  memory_layer_indices: []\n");
  EXPECT_TRUE(c.get("attention.attention_list").is_null());
  EXPECT_EQ(c.get("memory.memory_layer_indices"), Value(Ints{}));
  // Nullable bool.
  c = load("attention:\n  use_concat_heads: true\n");
  EXPECT_EQ(c.get("attention.use_concat_heads"), Value(true));
  c = load("attention:\n  use_concat_heads: ~\n");
  EXPECT_TRUE(c.get("attention.use_concat_heads").is_null());
}

TEST(ConfigLoad, MergeOverridesAndIsAllOrNothing) {
  Config c = load("model:\n  hidden_dim: 256\n  num_heads: 4\n");
  c.merge_string("model:\n  hidden_dim: 512\n", "second.yaml");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 512);
  EXPECT_EQ(c.get_int("model.num_heads"), 4);
  std::string msg = error_of([&] { c.merge_string("model:\n  num_heads: 8\n  num_layers: zero\n", "third.yaml"); });
  EXPECT_EQ(msg, "third.yaml:3: model.num_layers: expected int in [1, 4096], got 'zero'");
  EXPECT_EQ(c.get_int("model.num_heads"), 4);  // the failed document changed nothing
  EXPECT_FALSE(c.is_set("model.num_layers"));
}

TEST(ConfigLoad, MissingFileIsNotFound) {
  TempDir dir;
  std::string path = dir.path("nope.yaml");
  std::string msg = error_of([&] { Config::from_file(shipped(), path); }, StatusCode::NotFound);
  EXPECT_EQ(msg, "config file not found: " + path);
  msg = error_of([&] { Config::from_file(shipped(), dir.path("")); }, StatusCode::Io);
  EXPECT_CONTAINS(msg, "is a folder");
}

// Each case: file text, the exact message after "<path>:".
struct FileError {
  const char* text;
  const char* message;
};

TEST(ConfigLoad, FileErrorsNameFileLineKeyValueAndExpectation) {
  const FileError cases[] = {
      {"model:\n  num_heads: 4\n\n  hidden_dim: abc\n", "4: model.hidden_dim: expected int in [1, 65536], got 'abc'"},
      {"model:\n  hidden_dim: 256\n\n\n\n\n  hiden_dim: 128\n",
       "7: unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?)"},
      {"modle:\n  hidden_dim: 256\n", "1: unknown section 'modle' (did you mean 'model'?)"},
      {"trainign:\n  max_steps: 5\n", "1: unknown section 'trainign' (did you mean 'training'?)"},
      {"hidden_dim: 256\n",
       "1: unknown section 'hidden_dim' (did you mean 'model.hidden_dim'? keys go inside their section: model: "
       "hidden_dim: ...)"},
      {"stuff:\n  a: 1\n",
       "1: unknown section 'stuff' (sections: model, attention, memory, training, infini_attention)"},
      {"model:\n  segment_length: 64\n",
       "2: unknown key 'model.segment_length' (did you mean 'infini_attention.segment_length'?)"},
      {"model:\n  frobnicate: 1\n", "2: unknown key 'model.frobnicate'"},
      {"attention:\n  attn_logit_softcapping: true\n",
       "2: attention.attn_logit_softcapping: expected a float cap c > 0 (scores become c*tanh(s/c)), "
       "got boolean true"},
      {"attention:\n  attn_logit_softcapping: 0\n",
       "2: attention.attn_logit_softcapping: expected a float cap c > 0 (scores become c*tanh(s/c)), "
       "got 0.0"},
      {"training:\n  scheduler: cosin\n",
       "2: training.scheduler: expected one of cosine, linear, constant, got 'cosin'"},
      {"model:\n  mlp_type: relu\n", "2: model.mlp_type: expected one of swiglu, gelu, got 'relu'"},
      {"model:\n  hidden_dim: [1,\n  num_heads: 2\n", "4: end of sequence flow not found"},  // yaml-cpp's line
      {"model:\n  hidden_dim: 1\n num_heads: 2\n", "3: end of map not found"},
      {"- model\n- memory\n",
       "1: the top level must be a mapping of sections (model, attention, memory, training, infini_attention), "
       "got a list [model, memory]"},
      {"just text\n", "1: the top level must be a mapping of sections (model, attention, memory, training, "
                      "infini_attention), got 'just text'"},
      {"model: 5\n", "1: section 'model' must be a mapping of keys, got '5'"},
      {"training:\n  - max_steps\n", "2: section 'training' must be a mapping of keys, got a list [max_steps]"},
      {"model:\n  hidden_dim: [1, 2]\n", "2: model.hidden_dim: expected int in [1, 65536], got a list [1, 2]"},
      {"model:\n  hidden_dim: {a: 1}\n", "2: model.hidden_dim: expected int in [1, 65536], got a mapping {a: 1}"},
      {"training:\n  dataset_name: [a, b]\n", "2: training.dataset_name: expected a string, got a list [a, b]"},
      {"memory:\n  memory_layer_indices: 3\n",
       "2: memory.memory_layer_indices: expected a list of int in [0, 4095] or null, got '3'"},
      {"memory:\n  memory_layer_indices:\n    - 0\n    - x\n",
       "4: memory.memory_layer_indices[1]: expected int in [0, 4095], got 'x'"},
      {"memory:\n  memory_layer_indices: [0, -1]\n", "2: memory.memory_layer_indices[1]: expected int in [0, 4095], got -1"},
      {"attention:\n  attention_list: [causal, [ssm]]\n",
       "2: attention.attention_list[1]: expected a string, got a list [ssm]"},
      {"attention:\n  attention_list: [causal, true]\n",
       "2: attention.attention_list[1]: expected a string, got boolean true"},
      {"model:\n  use_rope: yes\n", "2: model.use_rope: expected bool (true or false), got 'yes'"},
      {"model:\n  use_rope: 1\n", "2: model.use_rope: expected bool (true or false), got '1'"},
      {"model:\n  use_rope:\n", "2: model.use_rope: expected bool (true or false), got null"},
      {"model:\n  num_layers: 2.5\n", "2: model.num_layers: expected int in [1, 4096], got '2.5'"},
      {"model:\n  num_layers: 0\n", "2: model.num_layers: expected int in [1, 4096], got 0"},
      {"model:\n  num_layers: true\n", "2: model.num_layers: expected int in [1, 4096], got boolean true"},
      {"model:\n  dropout: 1.0\n", "2: model.dropout: expected float in [0, 1), got 1.0"},
      {"model:\n  dropout: -0.1\n", "2: model.dropout: expected float in [0, 1), got -0.1"},
      {"model:\n  norm_eps: 0\n", "2: model.norm_eps: expected float > 0, got 0.0"},
      {"model:\n  rope_theta: abc\n", "2: model.rope_theta: expected float > 0, got 'abc'"},
      {"model:\n  rope_theta: .inf\n", "2: model.rope_theta: expected float > 0, got '.inf'"},
      {"training:\n  warmup_ratio: 1.5\n", "2: training.warmup_ratio: expected float in [0, 1] or null, got 1.5"},
      {"training:\n  memory_lr: -1e-4\n", "2: training.memory_lr: expected float >= 0, got -1e-4"},
      {"memory:\n  memory_quant_bits: 16\n", "2: memory.memory_quant_bits: expected 4 or 8, got 16"},
      {"model:\n  hidden_dim: ~\n", "2: model.hidden_dim: expected int in [1, 65536], got null"},
      {"model:\n  base_model_name: true\n", "2: model.base_model_name: expected a string or null, got boolean true"},
      {"model:\n  num_heads: 4\n  num_heads: 8\n", "3: duplicate key 'model.num_heads' (first given at line 2)"},
      {"model:\n  num_heads: 4\nmodel:\n  num_layers: 2\n", "3: duplicate section 'model' (first given at line 1)"},
      {"model:\n  num_heads: 4\n---\nmodel:\n  num_heads: 2\n", "4: expected one YAML document, found 2"},
      {"model:\n  ? [a, b]\n  : 1\n", "2: a key in section 'model' must be a plain word, got a list [a, b]"},
      {"training:\n  text_field: {a: b}\n",
       "2: training.text_field: expected a list of strings, got a mapping {a: b}"},
  };
  TempDir dir;
  int i = 0;
  for (const auto& fe : cases) {
    std::string path = dir.write("case" + std::to_string(i++) + ".yaml", fe.text);
    std::string msg = error_of([&] { Config::from_file(shipped(), path); });
    EXPECT_EQ(msg, path + ":" + fe.message) << "file text:\n" << fe.text;
  }
}

TEST(ConfigLoad, StringOriginPrefix) {
  std::string msg = error_of([] { load("model:\n  hidden_dim: abc\n"); });
  EXPECT_EQ(msg, "<string>:2: model.hidden_dim: expected int in [1, 65536], got 'abc'");
  msg = error_of([] { Config::from_string(shipped(), "model: {hidden_dim: 0}", "--config-json"); });
  EXPECT_EQ(msg, "--config-json:1: model.hidden_dim: expected int in [1, 65536], got 0");
}
