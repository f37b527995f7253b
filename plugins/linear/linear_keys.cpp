// linear/linear_keys.cpp: the chunk length of causal linear attention (speed and memory only, not the result).
#include "linear/linear_keys.hpp"

namespace memtx::linear {

VariantKeys linear_keys() {
  VariantKeys keys;
  keys.options = {
      Option("attention.linear_chunk_size", ValueType::Int, 64).min(1).max(16777216).by("linear")
          .doc("Chunk length of causal linear attention: masked quadratic attention inside each chunk, the running "
               "state (S, z) between chunks. Changes speed and memory, not the result."),
  };
  return keys;
}

}  // namespace memtx::linear
