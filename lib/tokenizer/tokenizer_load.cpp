// tokenizer/tokenizer_load.cpp: load_tokenizer(spec): "byte", a tokenizer.json (with the tokenizer_config.json
// beside it, if any, for bos/eos/pad), a SentencePiece .model, or a folder holding either.
#include <filesystem>

#include "memtx/error.hpp"
#include "memtx/read_file.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_byte.hpp"
#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_sentencepiece.hpp"

namespace memtx::data {
namespace {

namespace fs = std::filesystem;

bool looks_like_json(const std::string& content) {
  for (char c : content) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec) {
  if (spec == "byte") return make_byte_tokenizer();
  if (spec.empty()) throw Error(StatusCode::InvalidArgument, "tokenizer: empty tokenizer spec (use \"byte\" or a path)");
  fs::path path(spec);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::is_regular_file(path / "tokenizer.json", ec)) path /= "tokenizer.json";
    else if (fs::is_regular_file(path / "tokenizer.model", ec)) path /= "tokenizer.model";
    else
      throw Error(StatusCode::NotFound, "tokenizer folder " + spec + " holds neither tokenizer.json nor tokenizer.model");
  } else if (!fs::exists(path, ec)) {
    throw Error(StatusCode::NotFound, "tokenizer file " + spec + " does not exist (nor is it \"byte\")");
  }
  const std::string file = path.string();
  // Not a FIFO or a device (/dev/zero), and at most FileLimits::kTokenizer bytes.
  const std::string content = read_file(file, "tokenizer file", FileLimits::kTokenizer);
  const bool json = path.extension() == ".json" || (path.extension() != ".model" && looks_like_json(content));
  if (!json) return make_sentencepiece_tokenizer(content, file);
  BpeSpec bpe = parse_tokenizer_json(content, file);
  const fs::path config = path.parent_path() / "tokenizer_config.json";
  std::string config_json;
  if (fs::is_regular_file(config, ec)) config_json = read_file(config.string(), "tokenizer config file", FileLimits::kConfig);
  return make_bpe_tokenizer(std::move(bpe), config_json, config.string());
}

}  // namespace memtx::data
