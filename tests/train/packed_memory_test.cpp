// tests/train/packed_memory_test.cpp: quantised memory banks in saved models (model/packed_memory.hpp): 4- and
// 8-bit codes pack and unpack exactly; a saved model holds codes and scales instead of the bank's floats, at a
// quarter or an eighth of the bytes, and loads back to the same logits; checkpoints keep the float master copy;
// malformed packed tensors are Io errors naming the tensor.
#include "memtx/quantize.hpp"
#include "model/model_weights.hpp"
#include "model/packed_memory.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

TEST(PackedMemory, CodesPackAndUnpackExactly) {
  for (const int64_t bits : {4, 8}) {
    const int64_t q = bits == 8 ? 127 : 7;
    for (const int64_t cols : {1, 6, 7}) {
      auto codes = torch::randint(-q, q + 1, {5, cols}, torch::kLong).to(torch::kInt8);
      const auto packed = pack_codes(codes, bits);
      EXPECT_EQ(packed.size(1), bits == 8 ? cols : (cols + 1) / 2) << bits << " bits, " << cols << " columns";
      EXPECT_TRUE(torch::equal(unpack_codes(packed, bits, cols), codes)) << bits << " bits, " << cols << " columns";
    }
  }
  // The 4-bit layout: column 0 in the low nibble, column 1 in the high one, each as code + 8.
  auto codes = torch::tensor({-7, 3, 0}, torch::kInt8).view({1, 3});
  const auto packed = pack_codes(codes, 4);
  EXPECT_EQ(packed[0][0].item<int64_t>(), 1 + 11 * 16);
  EXPECT_EQ(packed[0][1].item<int64_t>(), 8);  // the pad nibble is 0
  EXPECT_THROW(unpack_codes(packed, 4, 5), Error);
  EXPECT_THROW(unpack_codes(torch::zeros({1, 2}, torch::kUInt8), 4, 3), Error);  // 0 is no stored code
}

TEST(PackedMemory, SavedModelsHoldCodesAndLoadToTheSameLogits) {
  for (const std::string bits : {"4", "8"}) {
    for (const std::string low_rank : {"false", "true"}) {
      SCOPED_TRACE(bits + " bits, factorized " + low_rank);
      const std::vector<std::string> o = {"memory.vanilla_mode=false", "memory.num_memory_tokens=16",
                                          "memory.wo_init_zero=false", "memory.quantize_memory=true",
                                          "memory.memory_quant_bits=" + bits, "memory.use_low_rank_memory=" + low_rank,
                                          "memory.memory_rank=4", "memory.low_rank_mode=factorized",
                                          "memory.memory_init_std=0.5"};
      Transformer model = tiny_model(o);
      model->eval();
      auto tokens = torch::randint(0, 97, {2, 9}, torch::kLong);
      torch::NoGradGuard no_grad;
      const auto expected = model->forward(tokens);

      const auto exported = model_tensors_for_export(*model, torch::kFloat);
      int64_t packed_bytes = 0, float_bytes = 0, pairs = 0;
      for (const auto& [name, t] : exported) {
        const bool packed = name.find(".qcodes") != std::string::npos || name.find(".qscales") != std::string::npos;
        EXPECT_FALSE(name.rfind("memory_banks.", 0) == 0 && !packed) << name << " is stored as floats";
        if (name.size() > 7 && name.substr(name.size() - 7) == ".qcodes") {
          ++pairs;
          EXPECT_EQ(t.scalar_type(), bits == "8" ? torch::kInt8 : torch::kUInt8);
          packed_bytes += t.numel() * t.element_size();
        }
      }
      for (const auto& [name, t] : model_tensors_for_save(*model, torch::kFloat))
        if (is_quantized_bank_tensor(name, t)) float_bytes += t.numel() * t.element_size();
      EXPECT_EQ(pairs, low_rank == "true" ? 2 : 1);
      EXPECT_LE(packed_bytes * (bits == "8" ? 4 : 8), float_bytes + 64);

      Transformer other = tiny_model(o);  // the same structure; its bank values are overwritten by the load
      other->eval();
      {
        torch::NoGradGuard g;
        for (auto& p : other->named_parameters())
          if (p.key().rfind("memory_banks.", 0) == 0) p.value().uniform_(-1, 1);
      }
      load_model_tensors(*other, exported, "model.safetensors");
      EXPECT_LT(max_abs_diff(other->forward(tokens), expected), 1e-5);
      // The bank reads the same quantised values as before the save.
      EXPECT_LT(max_abs_diff(other->banks[0]->read(), model->banks[0]->read()), 1e-6);
    }
  }
}

TEST(PackedMemory, CheckpointsKeepTheFloatMasterCopy) {
  Transformer model = tiny_model({"memory.vanilla_mode=false", "memory.num_memory_tokens=16",
                                  "memory.quantize_memory=true", "memory.memory_quant_bits=4"});
  bool found = false;
  for (const auto& [name, t] : model_tensors_for_save(*model, torch::kFloat)) {
    EXPECT_EQ(name.find(".qcodes"), std::string::npos);
    found = found || name == "memory_banks.0.memory";
  }
  EXPECT_TRUE(found);
  // Without quantize_memory a saved model keeps its floats too.
  Transformer plain = tiny_model({"memory.vanilla_mode=false", "memory.num_memory_tokens=16"});
  EXPECT_EQ(model_tensors_for_export(*plain, torch::kFloat).size(),
            model_tensors_for_save(*plain, torch::kFloat).size());
}

TEST(PackedMemory, MalformedPackedTensorsAreIoErrorsNamingTheTensor) {
  Transformer model = tiny_model({"memory.vanilla_mode=false", "memory.num_memory_tokens=16",
                                  "memory.quantize_memory=true", "memory.memory_quant_bits=8"});
  const auto exported = model_tensors_for_export(*model, torch::kFloat);
  auto without = [&](const std::string& suffix) {
    NamedTensors out;
    for (const auto& nt : exported)
      if (nt.first != "memory_banks.0.memory" + suffix) out.push_back(nt);
    return out;
  };
  auto message = [&](const NamedTensors& tensors) -> std::string {
    try {
      load_model_tensors(*model, tensors, "m.safetensors");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Io);
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(message(without(".qscales")).find("'memory_banks.0.memory.qcodes' has no 'memory_banks.0.memory.qscales'"),
            std::string::npos);
  EXPECT_NE(message(without(".qcodes")).find("'memory_banks.0.memory.qscales' has no"), std::string::npos);
  auto wrong = exported;
  for (auto& [name, t] : wrong)
    if (name == "memory_banks.0.memory.qcodes") t = t.narrow(1, 0, 3).contiguous();
  EXPECT_NE(message(wrong).find("memory_banks.0.memory.qcodes"), std::string::npos);
}

}  // namespace
}  // namespace memtx::test
