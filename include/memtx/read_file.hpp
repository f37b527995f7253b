// memtx/read_file.hpp: the one whole-file reader of libmemtx (configs, Hugging Face JSON files, tokenizers,
// dataset files, the checkpoint's own text files). Files come from strangers: it refuses anything that is not
// a regular file (a folder, a FIFO, a device such as /dev/zero) before reading, and never reads more than the
// limit of the file's kind, so a hostile path cannot block the process or exhaust its memory. The limits are
// listed in README.md ("Limits on input sizes").
#pragma once
#include <cstdint>
#include <string>

#include "memtx/export.h"

namespace memtx {

// The most bytes read from one file of each kind.
struct FileLimits {
  static constexpr uint64_t kMiB = uint64_t{1} << 20;
  static constexpr uint64_t kConfig = 16 * kMiB;      // YAML/JSON configs, config.json, tokenizer_config.json
  static constexpr uint64_t kIndex = 256 * kMiB;      // model.safetensors.index.json
  static constexpr uint64_t kTokenizer = 1024 * kMiB;  // tokenizer.json, SentencePiece .model
  static constexpr uint64_t kText = 1024 * kMiB;      // files memtx writes itself (trainer_state.json, metrics.jsonl)
  static constexpr uint64_t kData = 4096 * kMiB;      // one dataset file (.txt, .json, .jsonl)
};

// The size of the regular file at path (following symbolic links), checked against max_bytes. `what` names
// the kind of file in messages ("config file", "tokenizer file"). Error(NotFound) when nothing is there;
// Error(Io) when it is not a regular file (folder, FIFO, socket, device) or is larger than max_bytes.
MEMTX_API uint64_t check_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// The whole content of the regular file at path, after the checks of check_regular_file; Error(Io) too when
// it cannot be read or grows past max_bytes while being read.
MEMTX_API std::string read_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// "16 MiB", "1 GiB", "300 bytes": a limit in words for messages.
MEMTX_API std::string byte_size_text(uint64_t bytes);

}  // namespace memtx
