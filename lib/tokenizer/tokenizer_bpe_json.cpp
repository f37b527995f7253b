// tokenizer/tokenizer_bpe_json.cpp: reads a Hugging Face tokenizer.json into a BpeSpec, checking every field it
// uses and refusing (Error(Config), naming the feature) what the BPE tokenizer does not implement.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_errors.hpp"

namespace memtx::data {
namespace {

using nlohmann::json;

// Token ids are nearly dense: a tokenizer.json with V vocabulary entries and A added tokens uses ids below
// V + A when it has no holes. Every id is checked against twice that plus some slack (kIdSlack), and against
// kMaxTokenIds, before the id-indexed tables are sized: their size stays proportional to the file, and a
// hostile id (1e8) cannot allocate gigabytes.
constexpr int64_t kMaxTokenIds = int64_t{1} << 24;
constexpr int64_t kIdSlack = 1024;

class Reader {
 public:
  Reader(const std::string& file, int64_t entries, int64_t added) : file_(file), entries_(entries), added_(added) {
    id_limit_ = std::min(kMaxTokenIds, 2 * (entries + added) + kIdSlack);
  }

  // The member `key` of obj, nullptr when absent or null.
  const json* find(const json& obj, const char* key) const {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const json& require(const json& obj, const char* key, const std::string& where) const {
    const json* v = find(obj, key);
    if (v == nullptr) throw_io(file_, "missing field \"" + std::string(key) + "\" in " + where);
    return *v;
  }
  std::string string(const json& v, const std::string& what) const {
    if (!v.is_string()) throw_io(file_, what + " must be a string");
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const char* key, bool fallback, const std::string& where) const {
    const json* v = find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) throw_io(file_, where + "." + key + " must be true or false");
    return v->get<bool>();
  }
  int64_t id(const json& v, const std::string& what) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      throw_io(file_, what + " must be a non-negative integer id");
    const int64_t id = v.get<int64_t>();
    if (id >= id_limit_)
      throw_io(file_, what + " is id " + std::to_string(id) + ", out of range: ids must be below " +
                          std::to_string(id_limit_) + " (2 x (" + std::to_string(entries_) + " vocabulary entries + " +
                          std::to_string(added_) + " added tokens) + " + std::to_string(kIdSlack) + ", at most " +
                          std::to_string(kMaxTokenIds) + ")");
    return id;
  }
  std::string type(const json& obj, const std::string& where) const {
    if (!obj.is_object()) throw_io(file_, where + " must be an object");
    return string(require(obj, "type", where), where + ".type");
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  int64_t entries_ = 0, added_ = 0, id_limit_ = 0;
};

// The number of elements of root[key][sub] (or root[key]) when it is an object or array, else 0.
int64_t count_of(const json& root, const char* key, const char* sub = nullptr) {
  auto it = root.find(key);
  if (it == root.end()) return 0;
  const json* v = &*it;
  if (sub) {
    if (!v->is_object()) return 0;
    auto inner = v->find(sub);
    if (inner == v->end()) return 0;
    v = &*inner;
  }
  return v->is_object() || v->is_array() ? static_cast<int64_t>(v->size()) : 0;
}

void read_model(const Reader& r, const json& model, BpeSpec& spec) {
  if (!model.is_object()) throw_io(r.file(), "\"model\" must be an object");
  const json* type = r.find(model, "type");
  const std::string model_type = type ? r.string(*type, "model.type") : "BPE";
  if (model_type != "BPE") throw_unsupported(r.file(), "model type \"" + model_type + "\" (only BPE is implemented)");
  if (const json* d = r.find(model, "dropout"); d && !(d->is_number() && d->get<double>() == 0.0))
    throw_unsupported(r.file(), "BPE dropout");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json* v = r.find(model, key); v && !(v->is_string() && v->get<std::string>().empty()))
      throw_unsupported(r.file(), std::string("BPE ") + key);
  spec.ignore_merges = r.boolean(model, "ignore_merges", false, "model");

  const json& vocab = r.require(model, "vocab", "model");
  if (!vocab.is_object()) throw_io(r.file(), "model.vocab must be an object");
  std::unordered_map<std::string, int32_t> ids;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const auto id = static_cast<int32_t>(r.id(it.value(), "model.vocab[\"" + it.key() + "\"]"));
    if (static_cast<size_t>(id) >= spec.id_to_token.size()) spec.id_to_token.resize(static_cast<size_t>(id) + 1);
    if (!spec.id_to_token[id].empty() || it.key().empty())
      throw_io(r.file(), "model.vocab: id " + std::to_string(id) + " is used twice or names an empty token");
    spec.id_to_token[id] = it.key();
    ids.emplace(it.key(), id);
  }
  auto lookup = [&](const std::string& token, const std::string& merge) {
    auto it = ids.find(token);
    if (it == ids.end()) throw_io(r.file(), "merge \"" + merge + "\": \"" + token + "\" is not in the vocabulary");
    return it->second;
  };
  const json& merges = r.require(model, "merges", "model");
  if (!merges.is_array()) throw_io(r.file(), "model.merges must be an array");
  spec.merges.reserve(merges.size());
  for (const json& m : merges) {
    std::string a, b;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        throw_io(r.file(), "merge \"" + s + "\" is not two tokens separated by one space");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      throw_io(r.file(), "model.merges entries must be \"a b\" strings or [a, b] pairs");
    }
    const std::string name = a + " " + b;
    spec.merges.push_back({lookup(a, name), lookup(b, name), lookup(a + b, name)});
  }
  if (const json* unk = r.find(model, "unk_token")) {
    auto it = ids.find(r.string(*unk, "model.unk_token"));
    if (it != ids.end()) spec.unk_id = it->second;
  }
}

void read_added_tokens(const Reader& r, const json& root, BpeSpec& spec) {
  const json* added = r.find(root, "added_tokens");
  if (added == nullptr) return;
  if (!added->is_array()) throw_io(r.file(), "\"added_tokens\" must be an array");
  for (const json& t : *added) {
    if (!t.is_object()) throw_io(r.file(), "added_tokens entries must be objects");
    SpecialToken tok;
    tok.id = r.id(r.require(t, "id", "an added token"), "added_tokens[].id");
    tok.text = r.string(r.require(t, "content", "an added token"), "added_tokens[].content");
    if (tok.text.empty()) throw_io(r.file(), "added token " + std::to_string(tok.id) + " has empty content");
    tok.lstrip = r.boolean(t, "lstrip", false, "added_tokens[]");
    tok.rstrip = r.boolean(t, "rstrip", false, "added_tokens[]");
    tok.single_word = r.boolean(t, "single_word", false, "added_tokens[]");
    spec.added_is_special.push_back(r.boolean(t, "special", false, "added_tokens[]"));
    spec.added_tokens.push_back(std::move(tok));
  }
}

void read_normalizer(const Reader& r, const json& n, BpeSpec& spec) {
  const std::string type = r.type(n, "normalizer");
  if (type == "NFC") {
    spec.nfc = true;
  } else if (type == "Sequence") {
    const json& list = r.require(n, "normalizers", "normalizer");
    if (!list.is_array()) throw_io(r.file(), "normalizer.normalizers must be an array");
    for (const json& item : list) read_normalizer(r, item, spec);
  } else {
    throw_unsupported(r.file(), "normalizer \"" + type + "\" (only NFC is implemented)");
  }
}

// Appends the steps of one pre-tokenizer; returns whether it ends with ByteLevel.
bool read_pre_tokenizer(const Reader& r, const json& p, BpeSpec& spec) {
  const std::string type = r.type(p, "pre_tokenizer");
  if (type == "ByteLevel") {
    BpePreTokenizeStep step;
    if (r.boolean(p, "use_regex", true, "pre_tokenizer")) step.pattern = SplitPattern::Gpt2;
    step.add_prefix_space = r.boolean(p, "add_prefix_space", true, "pre_tokenizer");
    spec.pre_tokenize.push_back(step);
    return true;
  }
  if (type == "Split") {
    const json& pattern = r.require(p, "pattern", "the Split pre-tokenizer");
    const json* regex = r.find(pattern, "Regex");
    if (regex == nullptr) throw_unsupported(r.file(), "Split pre-tokenizer with a String pattern");
    const std::string text = r.string(*regex, "Split pattern");
    const std::optional<SplitPattern> known = recognise_split_pattern(text);
    if (!known)
      throw_unsupported(r.file(), "Split pattern " + text + " (known: the GPT-2, Llama 3 and Qwen2 patterns)");
    const json* behavior = r.find(p, "behavior");
    if (behavior && r.string(*behavior, "Split behavior") != "Isolated")
      throw_unsupported(r.file(), "Split behavior " + behavior->get<std::string>() + " (only Isolated)");
    if (r.boolean(p, "invert", false, "pre_tokenizer")) throw_unsupported(r.file(), "inverted Split pre-tokenizer");
    spec.pre_tokenize.push_back({known, false});
    return false;
  }
  if (type == "Sequence") {
    const json& list = r.require(p, "pretokenizers", "pre_tokenizer");
    if (!list.is_array()) throw_io(r.file(), "pre_tokenizer.pretokenizers must be an array");
    bool byte_level_last = false;
    for (const json& item : list) {
      if (byte_level_last) throw_unsupported(r.file(), "pre-tokenizer steps after ByteLevel");
      byte_level_last = read_pre_tokenizer(r, item, spec);
    }
    return byte_level_last;
  }
  throw_unsupported(r.file(), "pre-tokenizer \"" + type + "\" (byte-level BPE needs ByteLevel, optionally after Split)");
}

void read_decoder(const Reader& r, const json& d) {
  const std::string type = r.type(d, "decoder");
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    const json& list = r.require(d, "decoders", "decoder");
    if (!list.is_array()) throw_io(r.file(), "decoder.decoders must be an array");
    for (const json& item : list) read_decoder(r, item);
    return;
  }
  throw_unsupported(r.file(), "decoder \"" + type + "\" (only ByteLevel is implemented)");
}

// The leading special token of a TemplateProcessing post-processor (Llama 3's <|begin_of_text|>).
std::optional<std::string> template_bos(const json& post) {
  if (!post.is_object() || post.value("type", "") != "TemplateProcessing") return std::nullopt;
  auto single = post.find("single");
  if (single == post.end() || !single->is_array() || single->empty()) return std::nullopt;
  const json& first = (*single)[0];
  if (!first.is_object() || !first.contains("SpecialToken")) return std::nullopt;
  const json& st = first["SpecialToken"];
  if (!st.is_object() || !st.contains("id") || !st["id"].is_string()) return std::nullopt;
  return st["id"].get<std::string>();
}

}  // namespace

BpeSpec parse_tokenizer_json(const std::string& text, const std::string& file) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw_io(file, std::string("malformed JSON: ") + e.what());
  }
  if (!root.is_object()) throw_io(file, "not a tokenizer.json object");
  const Reader r(file, count_of(root, "model", "vocab"), count_of(root, "added_tokens"));
  BpeSpec spec;
  try {
    read_model(r, r.require(root, "model", "the file"), spec);
    read_added_tokens(r, root, spec);
    if (const json* n = r.find(root, "normalizer")) read_normalizer(r, *n, spec);
    const json* pre = r.find(root, "pre_tokenizer");
    if (pre == nullptr || !read_pre_tokenizer(r, *pre, spec))
      throw_unsupported(file, "BPE without the ByteLevel pre-tokenizer as its last step");
    if (const json* d = r.find(root, "decoder")) read_decoder(r, *d);
    if (const json* post = r.find(root, "post_processor")) spec.template_bos = template_bos(*post);
  } catch (const json::exception& e) {
    throw_io(file, std::string("unexpected content: ") + e.what());
  }
  return spec;
}

}  // namespace memtx::data
