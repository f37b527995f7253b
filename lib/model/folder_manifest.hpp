// model/folder_manifest.hpp: manifest.json, the integrity record of a folder memtx writes (a saved model,
// final_model/, a training checkpoint): the size and digest (io::file_digest, "fnv1a64w") of each of its files,
//   {"format": "memtx-manifest-1", "files": {"config.yaml": {"bytes": 812, "fnv1a64w": "<16 hex>"}, ...}}
// written last (atomically), so a flipped byte, a truncated file or a save that crashed half-way is found before
// anything is read. Folders without a manifest (saved by older versions, Hugging Face folders) load unchecked.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "io/file_util.hpp"
#include "memtx/export.h"

namespace memtx {

inline constexpr const char* kManifestFile = "manifest.json";

// Writes dir/manifest.json recording these digests (file name in dir -> digest).
MEMTX_API void write_folder_manifest(const std::string& dir, const std::map<std::string, io::FileDigest>& files);
// write_folder_manifest with the digest of each named file of dir, computed here.
MEMTX_API void seal_folder(const std::string& dir, const std::vector<std::string>& files);

// When dir holds a manifest, checks each named file against it and returns true: Error(Io) naming the file when
// the manifest does not list it or its size or digest differs, Error(NotFound) when the file is missing,
// Error(Io) naming manifest.json when that is malformed. Returns false, checking nothing, without a manifest.
MEMTX_API bool verify_folder_manifest(const std::string& dir, const std::vector<std::string>& files);

}  // namespace memtx
