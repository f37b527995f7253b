// model/packed_memory.cpp: quantised memory banks as codes and scales in model files (packed_memory.hpp).
#include "model/packed_memory.hpp"

#include <map>

#include "memtx/error.hpp"
#include "memtx/quantize.hpp"
#include "model/transformer.hpp"

namespace memtx {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int64_t quantized_memory_bits(const torch::nn::Module& model) {
  const auto* transformer = dynamic_cast<const TransformerImpl*>(&model);
  if (!transformer || transformer->banks.empty()) return 0;
  const Config& config = transformer->config();
  return config.get_bool("memory.quantize_memory") ? config.get_int("memory.memory_quant_bits") : 0;
}

bool is_quantized_bank_tensor(const std::string& name, const torch::Tensor& t) {
  return name.rfind("memory_banks.", 0) == 0 && t.dim() == 2 && torch::isFloatingType(t.scalar_type());
}

NamedTensors pack_quantized_memory(NamedTensors tensors, int64_t bits) {
  NamedTensors out;
  for (auto& [name, t] : tensors) {
    if (!is_quantized_bank_tensor(name, t)) {
      out.emplace_back(std::move(name), std::move(t));
      continue;
    }
    const QuantizedRows q = quantize_rows(t, bits);
    out.emplace_back(name + kPackedCodesSuffix, pack_codes(q.codes, bits));
    out.emplace_back(name + kPackedScalesSuffix, q.scales.contiguous());
  }
  return out;
}

NamedTensors unpack_quantized_memory(const torch::nn::Module& model, NamedTensors tensors, const std::string& origin) {
  std::map<std::string, torch::Tensor> codes, scales;
  NamedTensors out;
  for (auto& [name, t] : tensors) {
    if (ends_with(name, kPackedCodesSuffix)) codes[name.substr(0, name.size() - std::string(kPackedCodesSuffix).size())] = t;
    else if (ends_with(name, kPackedScalesSuffix)) scales[name.substr(0, name.size() - std::string(kPackedScalesSuffix).size())] = t;
    else out.emplace_back(std::move(name), std::move(t));
  }
  if (codes.empty() && scales.empty()) return out;
  std::map<std::string, torch::Tensor> live;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) live.emplace(item.key(), item.value());
  auto bad = [&origin](const std::string& what) { throw Error(StatusCode::Io, origin + ": " + what); };
  for (const auto& [name, c] : codes) {
    if (!scales.count(name)) bad("tensor '" + name + kPackedCodesSuffix + "' has no '" + name + kPackedScalesSuffix + "'");
    auto it = live.find(name);
    if (it == live.end() || it->second.dim() != 2)
      bad("packed tensor '" + name + "': the model has no 2-d parameter of that name");
    const int64_t rows = it->second.size(0), cols = it->second.size(1);
    const torch::Tensor& s = scales.at(name);
    if (s.dim() != 2 || s.size(0) != rows || s.size(1) != 1 || !torch::isFloatingType(s.scalar_type()))
      bad("tensor '" + name + kPackedScalesSuffix + "' must be floating [" + std::to_string(rows) + ", 1]");
    if (c.dim() != 2 || c.size(0) != rows) bad("tensor '" + name + kPackedCodesSuffix + "' must have " + std::to_string(rows) + " rows");
    const int64_t bits = c.scalar_type() == torch::kInt8 ? 8 : c.scalar_type() == torch::kUInt8 ? 4 : 0;
    if (bits == 0) bad("tensor '" + name + kPackedCodesSuffix + "' must be int8 (8-bit) or uint8 (4-bit codes)");
    try {
      out.emplace_back(name, dequantize_rows({unpack_codes(c, bits, cols), s}, torch::kFloat32));
    } catch (const Error& e) {
      bad("tensor '" + name + kPackedCodesSuffix + "': " + e.what());
    }
  }
  for (const auto& [name, s] : scales)
    if (!codes.count(name)) bad("tensor '" + name + kPackedScalesSuffix + "' has no '" + name + kPackedCodesSuffix + "'");
  return out;
}

}  // namespace memtx
