// tokenizer/tokenizer_bpe_json.cpp: reads a Hugging Face tokenizer.json into a BpeSpec: the model (BPE, WordPiece,
// Unigram), the added tokens and the pipeline components, checking every field it uses and refusing
// (Error(Config), naming the feature) what memtx does not implement.
#include <unordered_map>

#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_hf_components_json.hpp"

namespace memtx::data {
namespace {

// The vocabulary object {token: id} into an id-indexed table (and the token -> id map).
std::vector<std::string> read_vocab(const Reader& r, const json& model, std::unordered_map<std::string, int32_t>& ids) {
  const json& vocab = r.require(model, "vocab", "model");
  if (!vocab.is_object()) throw_io(r.file(), "model.vocab must be an object");
  std::vector<std::string> id_to_token;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const auto id = static_cast<int32_t>(r.id(it.value(), "model.vocab[\"" + it.key() + "\"]"));
    if (static_cast<size_t>(id) >= id_to_token.size()) id_to_token.resize(static_cast<size_t>(id) + 1);
    if (!id_to_token[id].empty() || it.key().empty())
      throw_io(r.file(), "model.vocab: id " + std::to_string(id) + " is used twice or names an empty token");
    id_to_token[id] = it.key();
    ids.emplace(it.key(), id);
  }
  return id_to_token;
}

HfModelPtr read_bpe(const Reader& r, const json& model) {
  BpeModelSpec spec;
  if (const json* d = r.find(model, "dropout"); d && !(d->is_number() && d->get<double>() == 0.0))
    throw_unsupported(r.file(), "BPE dropout");
  spec.ignore_merges = r.boolean(model, "ignore_merges", false, "model");
  spec.fuse_unk = r.boolean(model, "fuse_unk", false, "model");
  spec.byte_fallback = r.boolean(model, "byte_fallback", false, "model");
  spec.continuing_subword_prefix = r.optional_string(model, "continuing_subword_prefix", "", "model");
  spec.end_of_word_suffix = r.optional_string(model, "end_of_word_suffix", "", "model");
  std::unordered_map<std::string, int32_t> ids;
  spec.id_to_token = read_vocab(r, model, ids);
  auto lookup = [&](const std::string& token, const std::string& merge) {
    auto it = ids.find(token);
    if (it == ids.end()) throw_io(r.file(), "merge \"" + merge + "\": \"" + token + "\" is not in the vocabulary");
    return it->second;
  };
  const std::string& prefix = spec.continuing_subword_prefix;
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
    const bool prefixed = !prefix.empty() && b.compare(0, prefix.size(), prefix) == 0;
    const std::string merged = a + (prefixed ? b.substr(prefix.size()) : b);
    spec.merges.push_back({lookup(a, name), lookup(b, name), lookup(merged, name)});
  }
  if (const json* unk = r.find(model, "unk_token")) {
    auto it = ids.find(r.string(*unk, "model.unk_token"));
    if (it != ids.end()) spec.unk_id = it->second;
  }
  return make_bpe_model(std::move(spec));
}

HfModelPtr read_wordpiece(const Reader& r, const json& model) {
  WordPieceSpec spec;
  std::unordered_map<std::string, int32_t> ids;
  spec.id_to_token = read_vocab(r, model, ids);
  spec.unk_token = r.optional_string(model, "unk_token", spec.unk_token, "model");
  spec.continuing_subword_prefix = r.optional_string(model, "continuing_subword_prefix", "##", "model");
  spec.max_input_chars_per_word = r.count(model, "max_input_chars_per_word", 100, "model");
  return make_wordpiece_model(std::move(spec));
}

HfModelPtr read_unigram(const Reader& r, const json& model) {
  UnigramSpec spec;
  const json& vocab = r.require(model, "vocab", "model");
  if (!vocab.is_array()) throw_io(r.file(), "model.vocab of a Unigram model must be an array of [piece, score]");
  spec.pieces.reserve(vocab.size());
  for (const json& e : vocab) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      throw_io(r.file(), "model.vocab entries of a Unigram model must be [piece, score]");
    spec.pieces.emplace_back(e[0].get<std::string>(), e[1].get<double>());
  }
  if (const json* unk = r.find(model, "unk_id")) {
    const int64_t id = r.id(*unk, "model.unk_id");
    if (static_cast<size_t>(id) >= spec.pieces.size())
      throw_io(r.file(), "model.unk_id " + std::to_string(id) + " is outside the vocabulary");
    spec.unk_id = static_cast<int32_t>(id);
  }
  spec.byte_fallback = r.boolean(model, "byte_fallback", false, "model");
  return make_unigram_model(std::move(spec));
}

HfModelPtr read_model(const Reader& r, const json& model) {
  if (!model.is_object()) throw_io(r.file(), "\"model\" must be an object");
  const json* type = r.find(model, "type");
  const std::string model_type = type ? r.string(*type, "model.type") : "BPE";
  if (model_type == "BPE") return read_bpe(r, model);
  if (model_type == "WordPiece") return read_wordpiece(r, model);
  if (model_type == "Unigram") return read_unigram(r, model);
  throw_unsupported(r.file(), "model type \"" + model_type + "\" (implemented: BPE, WordPiece, Unigram)");
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
    spec.model = read_model(r, r.require(root, "model", "the file"));
    read_added_tokens(r, root, spec);
    if (const json* n = r.find(root, "normalizer")) spec.normalizer = read_normalizer(r, *n);
    if (const json* pre = r.find(root, "pre_tokenizer")) spec.pre_tokenizer = read_pre_tokenizer(r, *pre);
    if (const json* d = r.find(root, "decoder")) spec.decoder = read_decoder(r, *d);
    if (const json* post = r.find(root, "post_processor")) spec.template_bos = template_bos(*post);
  } catch (const json::exception& e) {
    throw_io(file, std::string("unexpected content: ") + e.what());
  }
  return spec;
}

}  // namespace memtx::data
