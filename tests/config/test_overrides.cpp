// tests/config/test_overrides.cpp: typed set(), text overrides (set_from_string, apply_override with dotted
// and bare keys), the getters, and the YAML/JSON dump round trips.
#include "helpers.hpp"

using memtx::Config;
using memtx::StatusCode;
using memtx::Value;
using memtx::ValueType;
using memtx_test::shipped;
using memtx_test::defaults;
using memtx_test::error_of;
using memtx_test::load;
using Strs = std::vector<std::string>;
using Ints = std::vector<int64_t>;

TEST(ConfigSet, TypedSet) {
  Config c = defaults();
  c.set("model.hidden_dim", 256);
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  EXPECT_TRUE(c.is_set("model.hidden_dim"));
  c.set("model.rope_theta", 500000);  // int for float
  EXPECT_EQ(c.get("model.rope_theta").type(), ValueType::Float);
  c.set("model.num_layers", 6.0);  // integral float for int
  EXPECT_EQ(c.get("model.num_layers"), Value(6));
  c.set("training.text_field", "text");  // one string for a string list
  EXPECT_EQ(c.get_string_list("training.text_field"), (Strs{"text"}));
  c.set("model.base_model_name", Value());
  EXPECT_FALSE(c.get_opt_string("model.base_model_name"));

  EXPECT_EQ(error_of([&] { c.set("attention.attn_logit_softcapping", true); }),
            "attention.attn_logit_softcapping: expected a float cap c > 0 (scores become c*tanh(s/c)), got "
            "boolean true");
  EXPECT_EQ(error_of([&] { c.set("model.num_layers", 2.5); }), "model.num_layers: expected int in [1, 4096], got 2.5");
  EXPECT_EQ(error_of([&] { c.set("model.hidden_dim", "256"); }), "model.hidden_dim: expected int in [1, 65536], got '256'");
  EXPECT_EQ(error_of([&] { c.set("model.hidden_dim", Value()); }), "model.hidden_dim: expected int in [1, 65536], got null");
  EXPECT_EQ(error_of([&] { c.set("training.scheduler", "cosin"); }),
            "training.scheduler: expected one of cosine, linear, constant, got 'cosin'");
  EXPECT_EQ(error_of([&] { c.set("memory.memory_layer_indices", Ints{0, -2}); }),
            "memory.memory_layer_indices[1]: expected int in [0, 4095], got -2");
  EXPECT_EQ(error_of([&] { c.set("model.hiden_dim", 3); }),
            "unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?)");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);  // failed sets change nothing
}

TEST(ConfigSet, FromString) {
  Config c = defaults();
  c.set_from_string("model.hidden_dim", "256");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  c.set_from_string("model.use_rope", "false");
  EXPECT_FALSE(c.get_bool("model.use_rope"));
  c.set_from_string("training.memory_lr", "1e-4");
  EXPECT_DOUBLE_EQ(c.get_float("training.memory_lr"), 1e-4);
  c.set_from_string("model.base_model_name", "models/Qwen2.5-1.5B");
  EXPECT_EQ(c.get_string("model.base_model_name"), "models/Qwen2.5-1.5B");
  c.set_from_string("training.wandb_run_name", "run: 1");  // not a mapping: text for a string key
  EXPECT_EQ(c.get_string("training.wandb_run_name"), "run: 1");
  c.set_from_string("model.base_model_name", "null");
  EXPECT_FALSE(c.get_opt_string("model.base_model_name"));
  c.set_from_string("model.base_model_name", "\"null\"");
  EXPECT_EQ(c.get_opt_string("model.base_model_name"), "null");
  c.set_from_string("model.head_dim", "");
  EXPECT_FALSE(c.get_opt_int("model.head_dim"));

  for (const char* text : {"[causal, ssm]", "causal,ssm", "causal ssm", " causal, ssm "}) {
    c.set_from_string("attention.attention_list", text);
    EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"causal", "ssm"})) << text;
  }
  c.set_from_string("attention.attention_list", "infini");
  EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"infini"}));
  c.set_from_string("attention.attention_list", "null");
  EXPECT_TRUE(c.get("attention.attention_list").is_null());
  for (const char* text : {"[0, 1, 5]", "0,1,5", "0 1 5"}) {
    c.set_from_string("memory.memory_layer_indices", text);
    EXPECT_EQ(c.get_int_list("memory.memory_layer_indices"), (Ints{0, 1, 5})) << text;
  }
  c.set_from_string("memory.memory_layer_indices", "[]");
  EXPECT_EQ(c.get("memory.memory_layer_indices"), Value(Ints{}));

  // A bare name is resolved.
  c.set_from_string("n_kv_group", "2");
  EXPECT_EQ(c.get_opt_int("attention.n_kv_group"), 2);

  EXPECT_EQ(error_of([&] { c.set_from_string("model.hidden_dim", "abc"); }),
            "model.hidden_dim: expected int in [1, 65536], got 'abc'");
  EXPECT_EQ(error_of([&] { c.set_from_string("model.hidden_dim", "[1, 2]"); }),
            "model.hidden_dim: expected int in [1, 65536], got a list [1, 2]");
  EXPECT_EQ(error_of([&] { c.set_from_string("model.hidden_dim", "[1, 2"); }),
            "model.hidden_dim: expected int in [1, 65536], got '[1, 2'");
  EXPECT_EQ(error_of([&] { c.set_from_string("attention.attn_logit_softcapping", "true"); }),
            "attention.attn_logit_softcapping: expected a float cap c > 0 (scores become c*tanh(s/c)), got "
            "boolean true");
  EXPECT_EQ(error_of([&] { c.set_from_string("memory.memory_layer_indices", "0,x"); }),
            "memory.memory_layer_indices[1]: expected int in [0, 4095], got 'x'");
  EXPECT_EQ(error_of([&] { c.set_from_string("attention.attention_list", "causal,true"); }),
            "attention.attention_list[1]: expected a string, got boolean true");
  c.set_from_string("training.text_field", "instruction,input,output");
  EXPECT_EQ(c.get_string_list("training.text_field"), (Strs{"instruction", "input", "output"}));
  EXPECT_EQ(error_of([&] { c.set_from_string("model.use_rope", "yes"); }),
            "model.use_rope: expected bool (true or false), got 'yes'");
  EXPECT_EQ(error_of([&] { c.set_from_string("training.optimizer", "adamw2"); }),
            "training.optimizer: expected one of adamw, adam, sgd, got 'adamw2'");
}

TEST(ConfigSet, ApplyOverride) {
  Config c = defaults();
  c.apply_override("model.hidden_dim=256");
  EXPECT_EQ(c.get_int("model.hidden_dim"), 256);
  c.apply_override("num_heads = 8");
  EXPECT_EQ(c.get_int("model.num_heads"), 8);
  c.apply_override("attention_list=causal,infini");
  EXPECT_EQ(c.get_string_list("attention.attention_list"), (Strs{"causal", "infini"}));
  c.apply_override("training.output_dir=out=dir");  // only the first '=' splits
  EXPECT_EQ(c.get_string("training.output_dir"), "out=dir");
  c.apply_override("model.base_model_name=");
  EXPECT_FALSE(c.get_opt_string("model.base_model_name"));

  EXPECT_EQ(error_of([&] { c.apply_override("model.hidden_dim"); }),
            "override 'model.hidden_dim': expected key=value, e.g. model.hidden_dim=256");
  EXPECT_EQ(error_of([&] { c.apply_override("=3"); }), "override '=3': expected key=value, e.g. model.hidden_dim=256");
  EXPECT_EQ(error_of([&] { c.apply_override("hiden_dim=3"); }),
            "unknown key 'hiden_dim' (did you mean 'model.hidden_dim'?)");
  EXPECT_EQ(error_of([&] { c.apply_override("model.num_layers=0"); }), "model.num_layers: expected int in [1, 4096], got 0");
}

TEST(ConfigGet, Getters) {
  Config c = load("model:\n  head_dim: 64\nattention:\n  use_concat_heads: true\n");
  EXPECT_EQ(c.get_opt_int("model.head_dim"), 64);
  EXPECT_FALSE(c.get_opt_int("model.rope_dim"));
  EXPECT_FALSE(c.get_opt_float("attention.attn_logit_softcapping"));
  EXPECT_DOUBLE_EQ(c.get_float("model.hidden_dim"), 768.0);  // an int key may be read as a float
  EXPECT_TRUE(c.get_bool("attention.use_concat_heads"));
  EXPECT_TRUE(c.get_int_list("memory.memory_layer_indices").empty());    // null: empty
  EXPECT_TRUE(c.get_string_list("attention.attention_list").empty());  // null: empty

  EXPECT_EQ(error_of([&] { c.get_int("model.rope_dim"); }), "model.rope_dim is null; read it with the get_opt_ form");
  EXPECT_EQ(error_of([&] { c.get_int("model.dropout"); }),
            "model.dropout holds float values; it cannot be read as an int");
  EXPECT_EQ(error_of([&] { c.get_string("model.hidden_dim"); }),
            "model.hidden_dim holds int values; it cannot be read as a string");
  EXPECT_EQ(error_of([&] { c.get("model.hiden_dim"); }),
            "unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?)");
  EXPECT_EQ(error_of([&] { c.is_set("nope.key"); }), "unknown key 'nope.key'");
  EXPECT_EQ(error_of([] { Config(nullptr); }, StatusCode::InvalidArgument), "Config: the schema is null");
}

namespace {

Config modified() {
  Config c = defaults();
  c.set("model.hidden_dim", 256);
  c.set("model.rope_theta", 1e6);
  c.set("model.norm_eps", 1e-5);
  c.set("model.base_model_name", "models/Qwen2.5-1.5B");
  c.set("attention.attention_list", Strs{"causal", "infini", "ssm"});
  c.set("attention.attn_logit_softcapping", 30.0);
  c.set("attention.use_concat_heads", false);
  c.set("attention.flash_lobo_log_const", -0.1);
  c.set("memory.memory_layer_indices", Ints{0, 5, 11});
  c.set("training.wandb_run_name", "true");      // text that looks like a bool
  c.set("training.dataset_subset", "20220301");  // text that looks like a number
  c.set("training.output_dir", "out dir: #1");   // text with YAML punctuation
  c.set("training.text_field", Strs{"instruction", "a, b", "null"});
  c.set("training.memory_lr", 3e-4);
  c.set("training.warmup_ratio", 0.1);
  c.set("memory.lora_alpha", 0.1 + 0.2);  // not a short decimal
  return c;
}

void expect_same_values(const Config& a, const Config& b) {
  for (const auto& d : a.schema().options())
    EXPECT_EQ(a.get(d.key), b.get(d.key)) << d.key << ": " << a.get(d.key).to_string() << " vs "
                                          << b.get(d.key).to_string();
}

}  // namespace

TEST(ConfigDump, YamlRoundTrip) {
  for (const Config& c : {defaults(), modified()}) {
    std::string yaml = c.to_yaml();
    Config back = Config::from_string(shipped(), yaml, "dump.yaml");
    expect_same_values(c, back);
    EXPECT_EQ(back.to_yaml(), yaml);
  }
  std::string yaml = defaults().to_yaml();
  EXPECT_CONTAINS(yaml, "model:\n  hidden_dim: 768\n");
  EXPECT_CONTAINS(yaml, "  base_model_name: null\n");
  EXPECT_CONTAINS(yaml, "  rope_theta: 10000.0\n");
  EXPECT_CONTAINS(yaml, "  norm_eps: 1e-6\n");
  EXPECT_CONTAINS(yaml, "  lora_targets: [q_proj, v_proj]\n");
  EXPECT_CONTAINS(yaml, "infini_attention:\n  segment_length: 64\n");
}

TEST(ConfigDump, JsonRoundTrip) {
  for (const Config& c : {defaults(), modified()}) {
    std::string json = c.to_json();
    Config back = Config::from_string(shipped(), json, "dump.json");
    expect_same_values(c, back);
    EXPECT_EQ(back.to_json(), json);
  }
  std::string json = defaults().to_json();
  EXPECT_CONTAINS(json, "\"hidden_dim\": 768");
  EXPECT_CONTAINS(json, "\"base_model_name\": null");
  EXPECT_CONTAINS(json, "\"lora_targets\": [\n      \"q_proj\",\n      \"v_proj\"\n    ]");
}
