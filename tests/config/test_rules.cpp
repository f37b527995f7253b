// tests/config/test_rules.cpp: the schema's table of cross-field rules (ConfigRule): a rule added to a
// schema reports through validate() in order and appears in markdown_reference(); copies keep rules; a
// rule reading a key the schema lacks is skipped; the builtin rules name only builtin keys; and
// memory_layers_enabled().
#include <algorithm>

#include "helpers.hpp"

using memtx::Config;
using memtx::ConfigRule;
using memtx::OptionDef;
using memtx::Schema;
using memtx::ValueType;
using memtx_test::error_of;

namespace {

const char* kWidthRule = "`plug.width` is at most 4 (a test rule).";

OptionDef width_option() {
  OptionDef d;
  d.key = "plug.width";
  d.type = ValueType::Int;
  d.default_value = 2;
  d.doc = "A plugin's width.";
  return d;
}

ConfigRule width_rule() {
  return {kWidthRule, {"plug.width"}, [](const Config& c, std::vector<std::string>& errors) {
            if (c.get_int("plug.width") > 4)
              errors.push_back("plug.width (" + c.get("plug.width").to_string() + ") must be <= 4");
          }};
}

// The builtin schema plus plug.width and its rule, as a plugin would extend it.
std::shared_ptr<Schema> extended() {
  auto schema = std::make_shared<Schema>(Schema::builtin());
  schema->add(width_option());
  schema->add_rule(width_rule());
  return schema;
}

}  // namespace

TEST(ConfigRules, CustomRuleReportsThroughValidate) {
  auto schema = extended();
  EXPECT_EQ(schema->rules().size(), Schema::builtin().rules().size() + 1);
  Config c(schema);
  c.validate();
  c.set("plug.width", 5);
  EXPECT_EQ(error_of([&] { c.validate(); }), "plug.width (5) must be <= 4");
  // After the builtin rules, before the common no-empty-string rule, in one aggregated message.
  c.set("model.num_heads", 12);
  c.set("model.hidden_dim", 768);
  c.set("attention.n_kv_group", 5);
  c.set("training.output_dir", "");
  EXPECT_EQ(error_of([&] { c.validate(); }),
            "3 configuration errors:\n  attention.n_kv_group (5) must divide model.num_heads (12)\n  plug.width (5) "
            "must be <= 4\n  training.output_dir must not be the empty string");
}

TEST(ConfigRules, CustomRuleTextInReference) {
  const std::string md = extended()->markdown_reference();
  const std::string own = std::string("- ") + kWidthRule + "\n";
  EXPECT_CONTAINS(md, own);
  // Listed after the builtin rules and before the common one.
  const size_t at = md.find(own);
  EXPECT_LT(md.find("- `training.early_stopping` requires"), at);
  EXPECT_GT(md.find("- No string value or list entry is the empty string"), at);
  EXPECT_EQ(Schema::builtin().markdown_reference().find(kWidthRule), std::string::npos);
}

TEST(ConfigRules, CopiedSchemaKeepsRules) {
  auto schema = extended();
  auto copy = std::make_shared<Schema>(*schema);  // as the plugin registry merges schemas
  ASSERT_EQ(copy->rules().size(), schema->rules().size());
  for (size_t i = 0; i < copy->rules().size(); ++i) {
    EXPECT_EQ(copy->rules()[i].text, schema->rules()[i].text);
    EXPECT_EQ(copy->rules()[i].keys, schema->rules()[i].keys);
  }
  Config c(copy);
  c.set("plug.width", 9);
  EXPECT_EQ(error_of([&] { c.validate(); }), "plug.width (9) must be <= 4");
  Schema assigned;
  assigned = *copy;
  EXPECT_EQ(assigned.rules().size(), copy->rules().size());
  // A copy of the shipped schema still runs the builtin and the plugins' rules.
  Config b(std::make_shared<Schema>(*memtx_test::shipped()));
  b.set("attention.mla_rotary_dim", 15);
  EXPECT_EQ(error_of([&] { b.validate(); }),
            "attention.mla_rotary_dim (15) must be even (RoPE rotates pairs of channels)");
}

TEST(ConfigRules, RuleWithMissingKeyIsSkipped) {
  auto schema = std::make_shared<Schema>();
  schema->add(width_option());
  schema->add_rule({"`plug.width` is smaller than `plug.height`.", {"plug.width", "plug.height"},
                    [](const Config&, std::vector<std::string>& errors) { errors.push_back("height rule ran"); }});
  Config c(schema);
  c.validate();  // plug.height is not in the schema: the rule does not run
  OptionDef h = width_option();
  h.key = "plug.height";
  schema->add(h);
  Config with_height(schema);
  EXPECT_EQ(error_of([&] { with_height.validate(); }), "height rule ran");
}

TEST(ConfigRules, AddRuleChecksAndIgnoresRepeats) {
  Schema s;
  EXPECT_EQ(error_of([&] { s.add_rule({"", {}, width_rule().check}); }, memtx::StatusCode::InvalidArgument),
            "configuration rule: the text is empty");
  EXPECT_EQ(error_of([&] { s.add_rule({"No check.", {}, nullptr}); }, memtx::StatusCode::InvalidArgument),
            "configuration rule 'No check.': the check is empty");
  s.add_rule(width_rule());
  s.add_rule(width_rule());  // the same text again: a no-op, like an identical OptionDef
  EXPECT_EQ(s.rules().size(), 1u);
  // Rules of the schema only: a fresh schema lists none of the builtin ones, only the common rule.
  EXPECT_EQ(s.markdown_reference().find("`model.hidden_dim` is divisible"), std::string::npos);
  EXPECT_CONTAINS(s.markdown_reference(), "- No string value or list entry is the empty string");
}

TEST(ConfigRules, BuiltinRulesReadBuiltinKeys) {
  // A misspelt key would silently switch its rule off; every builtin rule must apply to the builtin schema, and
  // every rule of a shipped plugin to the builtin schema plus that plugin's keys.
  EXPECT_EQ(Schema::builtin().rules().size(), 14u);
  EXPECT_EQ(memtx_test::shipped()->rules().size(), 21u);  // + QK-norm, LoBo, two RoPE sizes, MLA rotary, window layers,
                                                          // infini write sparsity
  for (const Schema* s : {&Schema::builtin(), memtx_test::shipped().get()}) {
    for (const auto& r : s->rules()) {
      EXPECT_FALSE(r.keys.empty()) << r.text;
      for (const auto& k : r.keys) EXPECT_NE(s->find(k), nullptr) << k << " in rule: " << r.text;
      EXPECT_CONTAINS(s->markdown_reference(), "- " + r.text + "\n");
    }
  }
}

TEST(ConfigRules, MemoryLayersEnabled) {
  auto on = [](const std::string& yaml) { return memtx::memory_layers_enabled(memtx_test::load(yaml)); };
  EXPECT_TRUE(on(""));  // defaults: adapter on, placement all
  EXPECT_FALSE(on("memory: {vanilla_mode: true}"));
  EXPECT_FALSE(on("memory: {memory_layer_placement: none}"));
  EXPECT_FALSE(on("memory: {use_memory_adapter: false}"));
  EXPECT_TRUE(on("memory: {use_memory_adapter: false, use_both_memory_and_lora: true}"));
  EXPECT_FALSE(on("memory: {vanilla_mode: true, use_both_memory_and_lora: true}"));
}
