// model/folder_manifest.cpp: writing and checking manifest.json (folder_manifest.hpp).
#include "model/folder_manifest.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/file_util.hpp"
#include "memtx/error.hpp"

namespace memtx {
namespace fs = std::filesystem;
namespace {

using Json = nlohmann::json;
constexpr const char* kFormat = "memtx-manifest-1";
constexpr const char* kHashKey = "fnv1a64w";

// The digests a manifest records; Error(Io) naming the manifest for anything malformed.
std::map<std::string, io::FileDigest> parse_manifest(const std::string& path) {
  Json j;
  try {
    j = Json::parse(io::read_text_file(path));
  } catch (const Json::exception& e) {
    throw Error(StatusCode::Io, path + ": not valid JSON (" + e.what() + ")");
  }
  auto bad = [&](const std::string& what) { return Error(StatusCode::Io, path + ": " + what); };
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat)
    throw bad(std::string("not a memtx manifest (expected an object with \"format\": \"") + kFormat + "\")");
  if (!j.contains("files") || !j["files"].is_object()) throw bad("field 'files' is missing or not an object");
  std::map<std::string, io::FileDigest> out;
  for (const auto& [name, entry] : j["files"].items()) {
    const std::string where = "field 'files." + name + "'";
    if (!entry.is_object() || !entry.contains("bytes") || !entry["bytes"].is_number_unsigned() ||
        !entry.contains(kHashKey) || !entry[kHashKey].is_string())
      throw bad(where + " is not {\"bytes\": <count>, \"" + kHashKey + "\": \"<hex>\"}");
    out[name] = io::FileDigest{entry["bytes"].get<uint64_t>(), entry[kHashKey].get<std::string>()};
  }
  return out;
}

}  // namespace

void write_folder_manifest(const std::string& dir, const std::map<std::string, io::FileDigest>& files) {
  Json listed = Json::object();
  for (const auto& [name, d] : files) listed[name] = {{"bytes", d.bytes}, {kHashKey, d.hash}};
  const Json j = {{"format", kFormat}, {"files", listed}};
  io::atomic_write_text(io::path_in(dir, kManifestFile), j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

void seal_folder(const std::string& dir, const std::vector<std::string>& files) {
  std::map<std::string, io::FileDigest> digests;
  for (const auto& name : files) digests[name] = io::file_digest(io::path_in(dir, name));
  write_folder_manifest(dir, digests);
}

bool verify_folder_manifest(const std::string& dir, const std::vector<std::string>& files) {
  const std::string path = io::path_in(dir, kManifestFile);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return false;
  const auto recorded = parse_manifest(path);
  for (const auto& name : files) {
    const std::string file = io::path_in(dir, name);
    auto it = recorded.find(name);
    if (it == recorded.end()) throw Error(StatusCode::Io, file + ": not listed in " + path);
    const io::FileDigest d = io::file_digest(file);
    if (d.bytes != it->second.bytes)
      throw Error(StatusCode::Io, file + ": " + std::to_string(d.bytes) + " bytes but " + kManifestFile + " records " +
                                      std::to_string(it->second.bytes) + " (truncated or replaced)");
    if (d.hash != it->second.hash)
      throw Error(StatusCode::Io, file + ": content digest " + d.hash + " differs from the " + it->second.hash +
                                      " recorded in " + kManifestFile + " (the file is corrupt)");
  }
  return true;
}

}  // namespace memtx
