// model/model_size.cpp: the parameter estimate of a ModelSpec and its limits (model_size.hpp).
#include "model/model_size.hpp"

#include <unistd.h>

#include <cstdio>
#include <limits>

#include "model/memory_layout.hpp"

namespace memtx {
namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? kSaturated : out;
}
uint64_t mul(uint64_t a, uint64_t b, uint64_t c) { return mul(mul(a, b), c); }
uint64_t add(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? kSaturated : out;
}
uint64_t u(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

std::string count_text(uint64_t n) {
  if (n == kSaturated) return "more than 1.8e+19";
  char text[32];
  std::snprintf(text, sizeof text, n < 100000 ? "%.0f" : "%.2g", static_cast<double>(n));
  return text;
}

std::string bytes_text(uint64_t bytes) {
  if (bytes == kSaturated) return "more than 16 EiB";
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  char text[48];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", v, units[unit]);
  return text;
}

// Physical memory of the host, 0 when unknown.
uint64_t host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? mul(u(pages), u(page)) : 0;
}

}  // namespace

ModelSizeEstimate estimate_model_size(const ModelSpec& s, const Config& c) {
  const uint64_t hidden = u(s.hidden_dim);
  const uint64_t embeddings = mul(s.tie_embeddings ? 1 : 2, u(s.vocab_size), hidden);
  const uint64_t q_width = mul(u(s.num_heads), u(s.head_dim)), kv_width = mul(u(s.num_kv_heads), u(s.head_dim));
  const uint64_t attention = add(mul(2, hidden, q_width), mul(2, hidden, kv_width));  // q and o, k and v
  const uint64_t mlp = s.use_mlp ? mul(s.swiglu ? 3 : 2, hidden, u(s.intermediate_dim)) : 0;
  const uint64_t block = add(add(attention, mlp), mul(2, hidden));
  const uint64_t blocks = mul(u(s.num_layers), block);

  uint64_t memory = 0;
  std::string memory_text;
  const MemoryLayout layout = memory_layout(MemoryLayoutOptions::from_config(c));
  if (layout.num_banks > 0) {
    const uint64_t width = u(c.get_opt_int("memory.memory_dim").value_or(s.hidden_dim));
    const uint64_t banks = mul(u(layout.num_banks), u(c.get_int("memory.num_memory_tokens")), width);
    const uint64_t sublayers = mul(layout.memory_layers().size(), mul(4, hidden, width));
    memory = add(banks, sublayers);
    memory_text = " + memory " + count_text(memory);
  }

  ModelSizeEstimate e;
  e.parameters = add(add(embeddings, blocks), add(memory, hidden));
  e.build_bytes = mul(e.parameters, 4);
  e.breakdown = "embeddings " + count_text(embeddings) + " + " + std::to_string(s.num_layers) + " blocks x " +
                count_text(block) + memory_text;
  return e;
}

void check_model_size(const ModelSpec& spec, const Config& config) {
  const ModelSizeEstimate e = estimate_model_size(spec, config);
  const std::string what = "the model would have about " + count_text(e.parameters) + " parameters (" + e.breakdown +
                           "; " + bytes_text(e.build_bytes) + " in float32, as it is built)";
  if (e.parameters > kMaxModelParameters)
    throw Error(StatusCode::Config, what + ", more than the limit of " + count_text(kMaxModelParameters) + " (2^40); " +
                                        "check model.num_layers, model.hidden_dim, model.intermediate_dim and "
                                        "model.vocab_size");
  const uint64_t host = host_memory_bytes();
  if (host > 0 && e.build_bytes > host)
    throw Error(StatusCode::Config, what + ", more than this machine's " + bytes_text(host) + " of memory");
}

}  // namespace memtx
