// io/file_util.hpp: small file helpers (checkpoints, adapters, model folders): durable atomic text writes, whole-file reads,
// a folder member's path and a content digest that trainer_state.json records for every other checkpoint file.
//   atomic write: write "<path>.tmp-<pid>", fsync, rename over path (a reader sees the old or the new file).
//   digest: the byte count and a 64-bit FNV-1a hash over the file taken as little-endian 8-byte words
//           (h = 0xcbf29ce484222325; for each word w: h = (h ^ w) * 0x100000001b3; the tail bytes are
//           zero-padded into a last word). It detects truncation and flipped bytes, not a deliberate forgery.
#pragma once
#include <cstdint>
#include <string>

#include "memtx/export.h"

namespace memtx::io {

struct FileDigest {
  uint64_t bytes = 0;
  std::string hash;  // 16 lowercase hex digits
  bool operator==(const FileDigest& o) const { return bytes == o.bytes && hash == o.hash; }
};

// Error(Io) naming the file when it cannot be written, synced or renamed.
MEMTX_API void atomic_write_text(const std::string& path, const std::string& text);
// Error(NotFound) for a missing file, Error(Io) when it cannot be read, is not a regular file or is larger
// than FileLimits::kText (memtx/read_file.hpp).
MEMTX_API std::string read_text_file(const std::string& path);
MEMTX_API FileDigest file_digest(const std::string& path);
// dir/file as one path string (a model folder's or a checkpoint's member).
MEMTX_API std::string path_in(const std::string& dir, const std::string& file);

}  // namespace memtx::io
