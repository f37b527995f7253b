// model/hf_export_tokenizer.cpp: tokenizer files of an exported Hugging Face folder (see hf_export_tokenizer.hpp).
#include "model/hf_export_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include "io/file_util.hpp"
#include "memtx/error.hpp"
#include "memtx/read_file.hpp"
#include "tokenizer/tokenizer_hf_pretokenizers.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace fs = std::filesystem;

namespace memtx {
namespace {

const char* const kByteSpecials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

// The byte-level alphabet's character for a byte (GPT-2's table: printable Latin-1 bytes stand for themselves, the
// other 68 take U+0100, U+0101, ... in byte order), as UTF-8.
std::string byte_character(int byte) {
  std::string s;
  data::unicode::append_utf8(s, data::byte_level_char(static_cast<unsigned char>(byte)));
  return s;
}

nlohmann::ordered_json byte_level(bool add_prefix_space, bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true},
          {"use_regex", use_regex}};
}

// The text of a special token id, or null.
nlohmann::json token_text(const data::Tokenizer& tokenizer, std::optional<int64_t> id) {
  if (!id) return nullptr;
  return tokenizer.decode({*id});
}

std::string tokenizer_config_json(const data::Tokenizer& tokenizer, const std::string& tokenizer_class,
                                  int64_t max_length) {
  nlohmann::ordered_json j;
  j["tokenizer_class"] = tokenizer_class;
  j["bos_token"] = token_text(tokenizer, tokenizer.bos_id());
  j["eos_token"] = token_text(tokenizer, tokenizer.eos_id());
  j["pad_token"] = token_text(tokenizer, tokenizer.pad_id());
  j["add_bos_token"] = false;
  j["add_eos_token"] = false;
  j["clean_up_tokenization_spaces"] = false;
  j["model_max_length"] = max_length;
  return j.dump(2) + "\n";
}

void copy_tokenizer_file(const fs::path& from, const fs::path& to) {
  io::atomic_write_text(to.string(), read_file(from.string(), "tokenizer file", FileLimits::kTokenizer));
}

}  // namespace

std::string byte_tokenizer_json() {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_character(b)] = b;
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (int i = 0; i < 3; ++i) {
    added.push_back({{"id", 256 + i}, {"content", kByteSpecials[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  nlohmann::ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = byte_level(false, false);
  j["post_processor"] = nullptr;
  j["decoder"] = byte_level(true, true);
  j["model"] = {{"type", "BPE"},          {"dropout", nullptr},   {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},      {"byte_fallback", false}, {"ignore_merges", false},
                {"vocab", vocab},         {"merges", nlohmann::ordered_json::array()}};
  return j.dump(2) + "\n";
}

std::vector<std::string> export_tokenizer_files(const std::string& spec, const data::Tokenizer& tokenizer,
                                                const fs::path& dir, int64_t max_length,
                                                ExportedSpecialTokens* specials) {
  if (specials) *specials = {tokenizer.bos_id(), tokenizer.eos_id(), tokenizer.pad_id()};
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& text) {
    io::atomic_write_text((dir / name).string(), text);
    written.push_back(name);
  };
  if (spec == "byte") {
    write("tokenizer.json", byte_tokenizer_json());
    write("tokenizer_config.json", tokenizer_config_json(tokenizer, "PreTrainedTokenizerFast", max_length));
    return written;
  }
  std::error_code ec;
  const fs::path source(spec);
  const bool folder = fs::is_directory(source, ec);
  const fs::path folder_path = folder ? source : source.parent_path();
  fs::path json_file, sp_file;
  if (folder) {
    if (fs::is_regular_file(source / "tokenizer.json", ec)) json_file = source / "tokenizer.json";
    else if (fs::is_regular_file(source / "tokenizer.model", ec)) sp_file = source / "tokenizer.model";
  } else if (source.extension() == ".model") {
    sp_file = source;
  } else {
    json_file = source;
  }
  if (json_file.empty() && sp_file.empty())
    throw Error(StatusCode::NotFound, spec + ": no tokenizer.json or tokenizer.model to export");
  if (!json_file.empty()) {
    copy_tokenizer_file(json_file, dir / "tokenizer.json");
    written.push_back("tokenizer.json");
  } else {
    copy_tokenizer_file(sp_file, dir / "tokenizer.model");
    written.push_back("tokenizer.model");
  }
  // The folder's own descriptions of the tokenizer travel with it (only those beside a tokenizer.json file named
  // tokenizer.json: another file's neighbours may describe something else).
  const bool own_folder = folder || source.filename() == "tokenizer.json" || source.filename() == "tokenizer.model";
  bool has_config = false;
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}) {
    if (own_folder && fs::is_regular_file(folder_path / name, ec)) {
      copy_tokenizer_file(folder_path / name, dir / name);
      written.push_back(name);
      has_config = has_config || std::string(name) == "tokenizer_config.json";
    }
  }
  if (!has_config) {
    write("tokenizer_config.json",
          tokenizer_config_json(tokenizer, json_file.empty() ? "LlamaTokenizer" : "PreTrainedTokenizerFast", max_length));
  }
  return written;
}

}  // namespace memtx
