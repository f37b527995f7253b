// tests/model/ignored_settings_test.cpp: "nothing is silently ignored" (docs/config.md), key by key. The walk
// covers every key of the schema with the project's plugins loaded: each is a variant key, a conditional host
// key or a key every model/run reads, and exactly one of the three. A variant key set in a model none of whose
// layers reads it, and a conditional key set while its feature is off, must be refused naming the key; a model
// key read by every model must change the model (its parameters or its logits) or be refused naming the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "model/model_spec.hpp"
#include "model/setting_use.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

// Keys with neither a variant nor a condition: every model or every training run reads them. The text says
// where the effect shows when it is not in the model's parameters or logits (those keys are not built below).
const std::map<std::string, std::string>& always_read() {
  static const std::map<std::string, std::string> keys = {
      {"attention.attention_list", ""}, {"attention.attention_variant", ""},
      {"memory.vanilla_mode", "memory layers and LoRA (the tiny model has neither)"},
      {"model.base_model_name", ""}, {"model.device", "the device (cpu and auto are the same here)"},
      {"model.dropout", "training only (dropout is off in eval mode)"}, {"model.dtype", ""}, {"model.head_dim", ""},
      {"model.hidden_dim", ""}, {"model.init_std", ""}, {"model.norm_eps", ""}, {"model.num_heads", ""},
      {"model.num_layers", ""}, {"model.seed", ""}, {"model.tie_embeddings", ""},
      {"model.tokenizer", "the tokenizer (data and generation)"}, {"model.use_mlp", ""}, {"model.use_rms_norm", ""},
      {"model.vocab_size", ""},
      {"training.batch_size", "trainer"}, {"training.data_root", "data"}, {"training.data_seed", "data"},
      {"training.dataset_name", "data"}, {"training.distributed_strategy", "trainer (a multi-process run)"}, {"training.dataset_split", "data"}, {"training.dataset_subset", "data"},
      {"training.early_stopping", "trainer"}, {"training.eval_split", "trainer, data"},
      {"training.gradient_accumulation_steps", "trainer"}, {"training.gradient_checkpointing", "trainer"},
      {"training.log_to_wandb", "trainer (refuses true)"}, {"training.logging_steps", "trainer"},
      {"training.max_grad_norm", "trainer"}, {"training.max_length", "data, trainer"},
      {"training.max_skipped_steps", "trainer"}, {"training.mixed_precision", "trainer"},
      {"training.num_epochs", "trainer"}, {"training.num_gpus", "trainer"}, {"training.num_threads", "trainer"},
      {"training.on_nonfinite_loss", "trainer"}, {"training.optimizer", "trainer"}, {"training.output_dir", "trainer"},
      {"training.resume_from_checkpoint", "trainer"}, {"training.save_precision", "trainer"},
      {"training.save_steps", "trainer"}, {"training.save_total_limit", "trainer"}, {"training.scheduler", "trainer"},
      {"training.text_field", "data"}, {"training.training_mode", "data, trainer"},
      {"training.warmup_ratio", "trainer"}, {"training.weight_decay", "trainer"},
  };
  return keys;
}

// A valid value other than the default (within bounds and choices).
Value other_value(const OptionDef& def) {
  auto within = [&](double v) {
    if (def.min && (v < *def.min || (def.min_exclusive && v == *def.min))) return false;
    if (def.max && (v > *def.max || (def.max_exclusive && v == *def.max))) return false;
    return true;
  };
  const Value& d = def.default_value;
  switch (def.type) {
    case ValueType::Bool: return d.is_null() ? true : !d.as_bool();
    case ValueType::Int: {
      const int64_t base = d.is_null() ? 0 : d.as_int();
      for (int64_t v : {base + 2, base + 1, base - 1, int64_t(2), int64_t(1)})
        if (within(double(v)) && (d.is_null() || v != base)) return v;
      break;
    }
    case ValueType::Float: {
      const double base = d.is_null() ? 0.0 : d.as_float();
      for (double v : {base * 0.5, base * 2.0, base + 0.25, 0.5, 0.25, 1.0})
        if (within(v) && (d.is_null() || v != base)) return v;
      break;
    }
    case ValueType::String:
      for (const auto& c : def.choices)
        if (d.is_null() || c != d.as_string()) return c;
      return std::string("other_value");
    case ValueType::StringList:
      for (const auto& c : def.choices)
        if (d.is_null() || d.as_string_list() != std::vector<std::string>{c}) return std::vector<std::string>{c};
      return std::vector<std::string>{"other_value"};
    case ValueType::IntList: return std::vector<int64_t>{0};
    case ValueType::Null: break;
  }
  ADD_FAILURE() << "no other value for " << def.key;
  return d;
}

bool is_conditional(const std::string& key) {
  const auto& table = conditional_settings();
  return std::any_of(table.begin(), table.end(), [&](const ConditionalSetting& s) { return s.key == key; });
}

// A self-attention variant none of `readers` is (the tiny model's layers become that variant).
std::string variant_outside(const std::vector<std::string>& readers) {
  for (const char* v : {"ssm", "causal", "linear", "co4"})
    if (std::find(readers.begin(), readers.end(), v) == readers.end()) return v;
  return "";
}

// Tiny configs with the conditional features off: no MLP, no memory layers or LoRA, no evaluation, no early
// stopping, warm-up and length given as ratio and epochs, a constant schedule, SGD; the first has a frozen base
// (base_model_lr unread), the second none (freeze_base_model unread).
std::vector<Config> features_off() {
  const std::vector<std::string> off = {"model.use_mlp=false", "training.eval_split=null", "training.warmup_ratio=0.1",
                                        "training.num_epochs=1",
                                        "training.scheduler=constant", "training.optimizer=sgd"};
  auto with_base = off;
  with_base.push_back("model.base_model_name=/no/base");
  return {tiny_config(with_base), tiny_config(off)};
}

// The report names the key, and its message starts with it.
bool names_key(const std::vector<IgnoredSetting>& ignored, const std::string& key) {
  return std::any_of(ignored.begin(), ignored.end(), [&](const IgnoredSetting& i) {
    return i.key == key && i.message.rfind(key + " is set", 0) == 0;
  });
}

TEST(IgnoredSettings, EveryKeyIsClassifiedExactlyOnce) {
  const auto schema = plugin_registry().schema();
  std::set<std::string> schema_keys;
  for (const auto& def : schema->options()) {
    schema_keys.insert(def.key);
    const bool variant = !variants_reading(plugin_registry(), def.key).empty();
    const bool conditional = is_conditional(def.key);
    const bool always = always_read().count(def.key) > 0;
    EXPECT_EQ(int(variant) + int(conditional) + int(always), 1)
        << def.key << ": variant key " << variant << ", conditional " << conditional << ", always read " << always;
  }
  for (const auto& [key, where] : always_read()) EXPECT_TRUE(schema_keys.count(key)) << key << " is not a key";
}

TEST(IgnoredSettings, VariantKeyInAModelWithoutSuchALayerIsRefused) {
  int checked = 0;
  for (const auto& def : plugin_registry().schema()->options()) {
    const auto readers = variants_reading(plugin_registry(), def.key);
    if (readers.empty()) continue;
    const std::string layer = variant_outside(readers);
    ASSERT_FALSE(layer.empty()) << def.key;
    Config c = tiny_config({"attention.attention_variant=" + layer});
    ASSERT_TRUE(ignored_settings(c, &plugin_registry(), SettingScope::All).empty()) << def.key;
    c.set(def.key, other_value(def));
    EXPECT_TRUE(names_key(ignored_settings(c, &plugin_registry(), SettingScope::All), def.key)) << def.key;
    try {
      ModelSpec::from_config(c, plugin_registry());
      ADD_FAILURE() << def.key << " set in a model of " << layer << " layers was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(def.key), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(readers.front()), std::string::npos) << e.what();
    }
    ++checked;
  }
  EXPECT_GE(checked, 60);  // the attention, infini_attention and memory keys of the seven plugins
}

TEST(IgnoredSettings, ConditionalKeyWithItsFeatureOffIsRefused) {
  const std::vector<Config> configs = features_off();
  for (const Config& off : configs) ASSERT_TRUE(ignored_settings(off, &plugin_registry(), SettingScope::All).empty());
  for (const auto& entry : conditional_settings()) {
    const OptionDef* def = configs.front().schema().find(entry.key);
    ASSERT_NE(def, nullptr) << entry.key;
    auto unread = std::find_if(configs.begin(), configs.end(), [&](const Config& c) { return !entry.read(c); });
    ASSERT_NE(unread, configs.end()) << entry.key << " is read in every features-off config";
    Config c = *unread;
    c.set(entry.key, other_value(*def));
    const auto messages = ignored_settings(c, &plugin_registry(), SettingScope::All);
    EXPECT_TRUE(names_key(messages, entry.key)) << entry.key;
    for (const auto& m : messages)
      if (m.key == entry.key) EXPECT_NE(m.message.find(entry.when), std::string::npos) << m.message;
  }
}

TEST(IgnoredSettings, ConditionalKeyWithItsFeatureOnIsAccepted) {
  // Turning each feature on makes its keys count: LoRA, memory layers placed every_n, early stopping.
  Config c = tiny_config({"memory.vanilla_mode=false", "memory.use_memory_adapter=true", "memory.use_lora=true",
                          "memory.memory_layer_placement=every_n", "memory.memory_layer_n=2", "memory.lora_rank=4",
                          "training.eval_split=validation", "training.early_stopping=true",
                          "training.early_stopping_patience=5", "model.intermediate_dim=48"});
  EXPECT_TRUE(ignored_settings(c, &plugin_registry(), SettingScope::All).empty());
  EXPECT_NO_THROW(ModelSpec::from_config(c, plugin_registry()));
}

// Logits of the tiny model for fixed tokens, or the error building it.
struct Built {
  std::vector<int64_t> shape_signature;
  torch::Tensor logits;
};

Built build(const Config& c) {
  torch::manual_seed(0);
  Transformer model(c, plugin_registry());
  model->eval();
  Built b;
  for (const auto& p : model->named_parameters()) {
    b.shape_signature.push_back(static_cast<int64_t>(std::hash<std::string>{}(p.key())));
    for (auto s : p.value().sizes()) b.shape_signature.push_back(s);
  }
  torch::NoGradGuard no_grad;
  b.logits = model->forward(torch::arange(6, torch::kLong).view({1, 6}) % 7).to(torch::kFloat64);
  return b;
}

TEST(IgnoredSettings, ModelKeyReadByEveryModelChangesTheModelOrIsRefused) {
  const Config base = tiny_config();
  const Built reference = build(base);
  int checked = 0;
  for (const auto& [key, where] : always_read()) {
    if (!where.empty() || key.rfind("training.", 0) == 0) continue;  // effect outside the parameters and logits
    Config c = base;
    Value value = other_value(*base.schema().find(key));
    if (key == "model.hidden_dim") value = int64_t(48);       // keeps hidden_dim % num_heads == 0
    if (key == "model.num_heads") value = int64_t(2);
    if (key == "model.head_dim") value = int64_t(16);
    if (key == "model.vocab_size") value = int64_t(101);
    if (key == "attention.attention_list") value = std::vector<std::string>{"causal", "ssm"};
    if (key == "attention.attention_variant") value = std::string("ssm");
    c.set(key, value);
    try {
      const Built b = build(c);
      const bool changed = b.shape_signature != reference.shape_signature || !b.logits.sizes().equals(reference.logits.sizes()) ||
                           !torch::allclose(b.logits, reference.logits, 0.0, 1e-12);
      EXPECT_TRUE(changed) << key << " = " << value.to_string() << " changed nothing";
    } catch (const Error& e) {
      // Refused naming the key, or the change made another set key of the tiny config unread (use_mlp: false
      // leaves intermediate_dim without effect): an effect too.
      const std::string m = e.what();
      EXPECT_TRUE(m.find(key) != std::string::npos || m.find(" is set (") != std::string::npos) << key << ": " << m;
    }
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(IgnoredSettings, MessagesNameTheKeyTheValueAndTheReaders) {
  Config c = tiny_config({"attention.attention_variant=ssm", "attention.attn_logit_softcapping=30"});
  try {
    ModelSpec::from_config(c, plugin_registry());
    FAIL() << "softcapping in an ssm model was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    const std::string m = e.what();
    EXPECT_NE(m.find("attention.attn_logit_softcapping is set (30"), std::string::npos) << m;
    EXPECT_NE(m.find("causal, infinite"), std::string::npos) << m;
    EXPECT_NE(m.find("this model's layers are ssm"), std::string::npos) << m;
  }
  // Two at once are reported together.
  c.set("infini_attention.segment_length", int64_t(32));
  const auto messages = ignored_settings(c, &plugin_registry(), SettingScope::Model);
  EXPECT_EQ(messages.size(), 2u);
}

}  // namespace
}  // namespace memtx::test
