// tests/model/hf_export_test.cpp: memtx -> Hugging Face export (model/hf_export.hpp): each exportable architecture
// reads back through the importer to the same logits, export -> import -> export is byte-identical, the written
// config.json and tensor names are the architecture's, and what transformers cannot compute is refused by name.
// (transformers itself judges the folders in tests/peer/export_transformers.py.)
#include <fstream>
#include <sstream>

#include "hf_folder_support.hpp"
#include "io/safetensors.hpp"
#include "model/hf_export.hpp"
#include "model/hf_export_tokenizer.hpp"
#include "model/lora.hpp"

namespace memtx::test {
namespace {

using memtx_test::error_of;
namespace fs = std::filesystem;

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A tensor the file must hold.
const torch::Tensor& tensor(const io::SafetensorsFile& file, const std::string& name) {
  const torch::Tensor* t = file.find(name);
  if (!t) throw std::runtime_error("no tensor " + name);
  return *t;
}

Transformer random_model(const std::vector<std::string>& overrides, uint64_t seed = 7) {
  torch::manual_seed(seed);
  std::vector<std::string> all = {"model.vocab_size=259"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  Transformer model(tiny_config(all), plugin_registry());
  model->eval();
  // Norm weights start at one: give them values so that a wrong name or layout shows in the logits.
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.key().find("norm") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
  return model;
}

torch::Tensor logits_of(Transformer& model) {
  torch::NoGradGuard no_grad;
  const auto tokens = torch::tensor({{5, 200, 17, 42, 258, 3, 99, 120, 7, 64}}, torch::kLong);
  return model->forward(tokens);
}

struct ExportCase {
  const char* name;
  std::vector<std::string> overrides;
  const char* model_type;
  std::vector<const char*> hf_names;  // some tensor names the folder must hold
};

class HfExportRoundTrip : public ::testing::TestWithParam<ExportCase> {};

TEST_P(HfExportRoundTrip, ImportsToTheSameLogitsAndReexportsByteForByte) {
  const ExportCase& c = GetParam();
  Transformer model = random_model(c.overrides);
  HfFolder first("first"), second("second");
  const HfExportResult result = save_hf_folder(*model, "byte", first.dir());
  EXPECT_EQ(result.model_type, c.model_type);

  const nlohmann::json config = read_json(first.dir() + "/config.json");
  EXPECT_EQ(config["model_type"], c.model_type);
  EXPECT_EQ(config["eos_token_id"], 256);
  const auto tensors = io::read_safetensors(first.dir() + "/model.safetensors");
  EXPECT_EQ(tensors.metadata.at("format"), "pt");
  for (const char* name : c.hf_names) EXPECT_TRUE(tensors.find(name)) << name;

  HfModelInfo info;
  Transformer imported = load_hf_model(first.dir(), plugin_registry(), &info);
  EXPECT_EQ(info.model_type, c.model_type);
  EXPECT_LE(max_abs_diff(logits_of(model), logits_of(imported)), 1e-6);

  save_hf_folder(*imported, first.dir(), second.dir());
  for (const char* file : {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
                           "tokenizer_config.json"}) {
    EXPECT_EQ(file_bytes(fs::path(first.dir()) / file), file_bytes(fs::path(second.dir()) / file)) << file;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, HfExportRoundTrip,
    ::testing::Values(
        ExportCase{"llama", {"attention.n_kv_group=2", "model.tie_embeddings=false", "model.rope_theta=500000"},
                   "llama", {"model.layers.1.self_attn.k_proj.weight", "lm_head.weight", "model.norm.weight"}},
        ExportCase{"qwen2", {"model.attention_bias=true", "attention.n_kv_group=2"}, "qwen2",
                   {"model.layers.0.self_attn.q_proj.bias", "model.layers.0.post_attention_layernorm.weight"}},
        ExportCase{"mamba",
                   {"attention.attention_variant=ssm", "model.use_mlp=false", "attention.ssm_conv_kernel_size=4",
                    "attention.ssm_dt_rank=4"},
                   "mamba", {"backbone.layers.1.mixer.A_log", "backbone.norm_f.weight", "backbone.embeddings.weight"}},
        ExportCase{"deepseek",
                   {"attention.attention_variant=mla", "model.rope_layout=interleaved", "attention.mla_rotary_dim=4",
                    "attention.mla_q_lora_rank=16", "model.tie_embeddings=false"},
                   "deepseek_v3", {"model.layers.0.self_attn.kv_a_proj_with_mqa.weight", "model.layers.1.mlp.up_proj.weight"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HfExport, LoraAdaptersAreFoldedIntoTheWeightsOrWrittenForPeft) {
  Transformer model = random_model({"memory.vanilla_mode=false", "memory.use_memory_adapter=false",
                                    "memory.use_lora=true", "memory.lora_rank=4", "memory.lora_targets=[q_proj,v_proj]"});
  {
    torch::NoGradGuard no_grad;
    for (auto& [path, lora] : lora_modules(*model)) lora->lora_B.normal_(0.0, 0.5);  // B = 0 would hide mistakes
  }
  HfFolder merged("merged"), base("base"), adapter("adapter");
  save_hf_folder(*model, "byte", merged.dir());
  Transformer imported = load_hf_model(merged.dir(), plugin_registry());
  EXPECT_LE(max_abs_diff(logits_of(model), logits_of(imported)), 1e-5);

  save_hf_folder(*model, "byte", base.dir(), /*merge_adapters=*/false);
  save_peft_adapter(*model, adapter.dir(), base.dir());
  const auto adapter_file = io::read_safetensors(adapter.dir() + "/adapter_model.safetensors");
  const nlohmann::json adapter_config = read_json(adapter.dir() + "/adapter_config.json");
  EXPECT_EQ(adapter_config["peft_type"], "LORA");
  EXPECT_EQ(adapter_config["r"], 4);
  EXPECT_EQ(adapter_config["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  // base + (alpha / r) B A, applied by hand from the files, is the merged weight.
  const auto base_file = io::read_safetensors(base.dir() + "/model.safetensors");
  const auto merged_file = io::read_safetensors(merged.dir() + "/model.safetensors");
  const std::string module = "model.layers.1.self_attn.v_proj";
  const auto& A = tensor(adapter_file, "base_model.model." + module + ".lora_A.weight");
  const auto& B = tensor(adapter_file, "base_model.model." + module + ".lora_B.weight");
  const double scale = adapter_config["lora_alpha"].get<double>() / 4.0;
  EXPECT_LE(max_abs_diff(tensor(base_file, module + ".weight") + scale * B.matmul(A),
                         tensor(merged_file, module + ".weight")),
            1e-6);
  EXPECT_GT(max_abs_diff(tensor(base_file, module + ".weight"), tensor(merged_file, module + ".weight")), 1e-3);
}

TEST(HfExport, ModelsTransformersCannotComputeAreRefusedByName) {
  HfFolder out("refused");
  auto refused = [&](const std::vector<std::string>& overrides) {
    Transformer model = random_model(overrides);
    return error_of([&] { save_hf_folder(*model, "byte", out.dir()); }, StatusCode::Config);
  };
  std::string m = refused({"attention.attention_list=[causal,infini]", "model.num_layers=2"});
  EXPECT_NE(m.find("layer 1 'infini'"), std::string::npos) << m;
  m = refused({"attention.attention_list=[linear,co4,linear]", "model.num_layers=3"});
  EXPECT_NE(m.find("layer 1 'co4'"), std::string::npos) << m;
  EXPECT_NE(m.find("layers 0 and 2 'linear'"), std::string::npos) << m;
  m = refused({"attention.attention_list=[causal,ssm]", "model.num_layers=2"});
  EXPECT_NE(m.find("mixes"), std::string::npos) << m;
  m = refused({"memory.vanilla_mode=false", "memory.num_memory_tokens=8", "memory.memory_layer_placement=custom",
               "memory.memory_layer_indices=[1]"});
  EXPECT_NE(m.find("layer 1 hold memory-token"), std::string::npos) << m;
  m = refused({"attention.use_qk_norm=true"});
  EXPECT_NE(m.find("attention.use_qk_norm is true"), std::string::npos) << m;
  m = refused({"attention.attn_logit_softcapping=30"});
  EXPECT_NE(m.find("attention.attn_logit_softcapping"), std::string::npos) << m;
  m = refused({"model.use_rms_norm=false"});
  EXPECT_NE(m.find("model.use_rms_norm"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(fs::path(out.dir()) / "config.json"));  // nothing written for a refused model
}

TEST(HfExport, ByteTokenizerJsonMapsEveryByteToItsId) {
  const nlohmann::json j = nlohmann::json::parse(byte_tokenizer_json());
  const auto& vocab = j["model"]["vocab"];
  ASSERT_EQ(vocab.size(), 256u);
  EXPECT_EQ(vocab["A"], 65);
  EXPECT_EQ(vocab["\xC4\xA0"], 32);  // space is U+0120 in the byte-level alphabet
  EXPECT_EQ(vocab["\xC4\x80"], 0);   // byte 0 is U+0100
  EXPECT_EQ(vocab["\xC5\x83"], 173);  // 0xAD (soft hyphen) is the 68th and last byte moved: U+0143
  EXPECT_EQ(j["added_tokens"][2]["content"], "<|im_end|>");
  EXPECT_EQ(j["added_tokens"][2]["id"], 258);
  EXPECT_EQ(byte_tokenizer_json(), byte_tokenizer_json());
}

}  // namespace
}  // namespace memtx::test
