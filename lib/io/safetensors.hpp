// io/safetensors.hpp: strict reader and writer of the safetensors format (8-byte little-endian header
// length, JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the data).
// Files come from strangers: the reader bounds the header size, the number of tensors and of dimensions,
// checks every offset lies inside the data area, that sizes match dtype x shape (an element count that
// overflows 64 bits is refused), that tensors neither overlap nor leave gaps, and knows its dtypes.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors_header.hpp"  // the header parser and the reader's limits
#include "memtx/error.hpp"

namespace memtx::io {

struct MEMTX_API SafetensorsFile {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // in file order (by offset)
  std::map<std::string, std::string> metadata;
  const torch::Tensor* find(const std::string& name) const;    // null when absent
};

// The safetensors name of a dtype ("F32", "BF16", "I8", ...), or c10's name for one the format lacks.
MEMTX_API std::string safetensors_dtype_name(torch::ScalarType type);

// Throws Error(NotFound) for a missing file, Error(Io) for unreadable/corrupt content; the message names
// the file and what is wrong (e.g. "tensor 'w': data_offsets [0, 12) but F32 [2, 2] needs 16 bytes").
MEMTX_API SafetensorsFile read_safetensors(const std::string& path);
// Only the header: names, dtypes, shapes, without reading tensor data.
MEMTX_API std::vector<std::pair<std::string, std::vector<int64_t>>> read_safetensors_shapes(const std::string& path);
// Writes contiguous CPU copies of the tensors (any device/dtype among the supported ones), atomically:
// to "<path>.tmp" then rename. Throws Error(InvalidArgument) for duplicate names or unsupported dtypes,
// Error(Io) when the file cannot be written.
MEMTX_API void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace memtx::io
