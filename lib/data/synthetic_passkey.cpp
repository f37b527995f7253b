// data/synthetic_passkey.cpp: passkey retrieval prompts with an exact token length (synthetic_passkey.hpp).
#include "data/synthetic_passkey.hpp"

#include <cmath>
#include <memory>

#include "data/dataset_encode.hpp"
#include "data/dataset_random.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

namespace {

const char* const kFiller[] = {"The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.",
                               "There and back again."};
constexpr size_t kFillerCount = sizeof(kFiller) / sizeof(kFiller[0]);

std::string needle_text(const std::string& key) {
  return "The pass key is " + key + ". Remember it. " + key + " is the pass key.";
}

void check_digits(int digits) {
  if (digits < 1 || digits > 18) {
    throw Error(StatusCode::InvalidArgument, "passkey digits must be in 1..18, got " + std::to_string(digits));
  }
}

struct Pieces {
  std::vector<int64_t> prefix, question, answer, needle_first, needle_after;
  std::vector<int64_t> first_sentence;          // kFiller[0] at the very start of the prompt
  std::vector<std::vector<int64_t>> sentences;  // " " + kFiller[k]
};

Pieces encode_pieces(const Tokenizer& tokenizer, const std::string& key) {
  PieceEncoder enc(tokenizer);
  Pieces p;
  p.prefix = enc.prefix();
  p.question = enc.piece(std::string(" ") + kPasskeyQuestion);
  p.answer = enc.piece(" " + key);
  p.needle_first = enc.piece(needle_text(key));
  p.needle_after = enc.piece(" " + needle_text(key));
  p.first_sentence = enc.piece(kFiller[0]);
  for (const char* s : kFiller) p.sentences.push_back(enc.piece(std::string(" ") + s));
  for (const auto& s : p.sentences) {
    if (s.empty() || p.first_sentence.empty()) {
      throw Error(StatusCode::InvalidArgument, "the tokenizer encodes a passkey filler sentence to no tokens");
    }
  }
  return p;
}

void append(std::vector<int64_t>& out, const std::vector<int64_t>& ids) { out.insert(out.end(), ids.begin(), ids.end()); }

}  // namespace

std::string passkey_for_seed(uint64_t seed, int digits) {
  check_digits(digits);
  Rng rng(derive_seed(seed, "passkey"));
  std::string key(1, static_cast<char>('1' + rng.below(9)));
  while (static_cast<int>(key.size()) < digits) key += static_cast<char>('0' + rng.below(10));
  return key;
}

int64_t passkey_min_length(const Tokenizer& tokenizer, int digits) {
  const Pieces p = encode_pieces(tokenizer, std::string(static_cast<size_t>(digits), '9'));
  return static_cast<int64_t>(p.prefix.size() + p.needle_first.size() + p.question.size() + p.answer.size());
}

PasskeyExample plan_passkey_example(const Tokenizer& tokenizer, const PasskeyOptions& o, PasskeyPrompt* prompt) {
  if (!(o.depth >= 0.0 && o.depth <= 1.0)) {
    throw Error(StatusCode::InvalidArgument, "passkey depth must be in [0, 1], got " + std::to_string(o.depth));
  }
  PasskeyExample ex;
  ex.passkey = passkey_for_seed(o.seed, o.digits);
  const Pieces p = encode_pieces(tokenizer, ex.passkey);
  const auto fixed = static_cast<int64_t>(p.prefix.size() + p.question.size() + p.answer.size());
  const int64_t minimum = fixed + static_cast<int64_t>(p.needle_first.size());
  if (o.length < minimum) {
    throw Error(StatusCode::InvalidArgument, "passkey length " + std::to_string(o.length) +
                                                 " is below the shortest prompt with a " + std::to_string(o.digits) +
                                                 "-digit key: " + std::to_string(minimum) + " tokens");
  }
  // Filler budget with a needle that follows filler (" The pass key ..."). Boundaries b_j: tokens of the
  // first j filler sentences; choose the one nearest depth * budget that fits.
  const int64_t budget = o.length - fixed - static_cast<int64_t>(p.needle_after.size());
  const double target = o.depth * static_cast<double>(std::max<int64_t>(budget, 0));
  int64_t before = 0;
  size_t sentences_before = 0;
  if (budget > 0) {
    int64_t b = 0;
    for (size_t j = 0;; ++j) {
      const auto& s = j == 0 ? p.first_sentence : p.sentences[j % kFillerCount];
      const int64_t next = b + static_cast<int64_t>(s.size());
      if (next > budget) break;
      if (std::fabs(static_cast<double>(next) - target) > std::fabs(static_cast<double>(b) - target)) break;
      b = next;
      sentences_before = j + 1;
    }
    before = b;
  }
  const bool needle_first = sentences_before == 0;
  const auto& needle = needle_first ? p.needle_first : p.needle_after;
  const int64_t filler = o.length - fixed - static_cast<int64_t>(needle.size());
  const int64_t after = filler - before;

  // prefix | filler sentences 0 .. sentences_before-1 (the first one without its leading space) | needle |
  // filler sentences from sentences_before on, cut after `after` tokens | question.
  auto piece = [](const std::vector<int64_t>& tokens) { return std::make_shared<const std::vector<int64_t>>(tokens); };
  const auto cycle = std::make_shared<const std::vector<std::vector<int64_t>>>(p.sentences);
  PasskeyPrompt& out = *prompt;
  out = PasskeyPrompt();
  out.append(piece(p.prefix));
  if (sentences_before > 0) {
    out.append(piece(p.first_sentence));
    out.append_cycle(cycle, 1, before - static_cast<int64_t>(p.first_sentence.size()));
  }
  ex.needle_begin = out.size();
  out.append(piece(needle));
  ex.needle_end = out.size();
  out.append_cycle(cycle, sentences_before, after);
  out.append(piece(p.question));
  ex.answer = p.answer;
  ex.filler_tokens = filler;
  ex.depth = filler > 0 ? static_cast<double>(before) / static_cast<double>(filler) : 0.0;
  return ex;
}

PasskeyExample make_passkey_example(const Tokenizer& tokenizer, const PasskeyOptions& options) {
  PasskeyPrompt prompt;
  PasskeyExample ex = plan_passkey_example(tokenizer, options, &prompt);
  ex.prompt = prompt.tokens();
  return ex;
}

std::vector<int64_t> passkey_filler(const Tokenizer& tokenizer, int64_t count) {
  const Pieces p = encode_pieces(tokenizer, "0");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
  for (size_t j = 0; static_cast<int64_t>(out.size()) < count; ++j) {
    const auto& s = p.sentences[j % kFillerCount];
    const size_t take = std::min(s.size(), static_cast<size_t>(count) - out.size());
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return out;
}

Document passkey_document(const PasskeyExample& example, bool answer_only) {
  return Document::prompt_and_answer(example.prompt, example.answer, answer_only);
}

}  // namespace memtx::data
