// model/model_size.hpp: the size of the model a ModelSpec describes, estimated before any tensor exists with
// overflow-safe (saturating) arithmetic, and the limits it is held to: a model memtx would allocate until
// the machine runs out of memory is refused up front, with the estimate in the message.
//   Estimate: embeddings (vocab x hidden, twice when untied), per block the attention projections
//   (q, k, v, o from heads, kv heads and head_dim), the MLP (3 or 2 matrices of hidden x intermediate) and two
//   norms, the memory banks (banks x memory tokens x memory width, full rank) and each memory sublayer's four
//   projections. A variant's own extra parameters are not counted: the estimate is a floor, not exact.
#pragma once
#include <cstdint>
#include <string>

#include "memtx/config.hpp"
#include "model/model_spec.hpp"

namespace memtx {

// At most 2^40 (about 1.1e12) parameters, whatever the machine (README.md, "Limits on input sizes").
constexpr uint64_t kMaxModelParameters = uint64_t{1} << 40;

struct MEMTX_API ModelSizeEstimate {
  uint64_t parameters = 0;   // saturates at UINT64_MAX
  uint64_t build_bytes = 0;  // float32, as the model is built on the host before it moves to its device/dtype
  std::string breakdown;     // "embeddings 1.0e+09 + 80 blocks x 2.1e+08 + ..."
};

MEMTX_API ModelSizeEstimate estimate_model_size(const ModelSpec& spec, const Config& config);

// Error(Config) when the estimate exceeds kMaxModelParameters, or when the float32 build needs more bytes than
// the host's physical memory; the message gives the estimate and the limit.
MEMTX_API void check_model_size(const ModelSpec& spec, const Config& config);

}  // namespace memtx
