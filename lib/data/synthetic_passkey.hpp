// data/synthetic_passkey.hpp: passkey retrieval (Mohtashami and Jaggi 2023; the Infini-attention paper's
// evaluation). A prompt of exactly the requested number of tokens:
//   filler sentences ("The grass is green. The sky is blue. The sun is yellow. Here we go. There and back
//   again.", repeated), with the needle "The pass key is NNNNN. Remember it. NNNNN is the pass key."
//   inserted at a sentence boundary at the requested depth, then "What is the pass key? The pass key is";
//   the answer is " NNNNN".
// depth is the fraction of the filler that comes before the needle: 0 puts the needle first (right after
// the tokenizer's prefix, in the first segment), 1 right before the question. The realised depth is the
// nearest sentence boundary, so it differs from the request by at most one filler sentence. The filler
// after the needle is cut (mid-sentence, in tokens) so that prompt + answer is exactly `length` tokens.
// The pass key is drawn from the seed (digits digits, no leading zero). The evaluation reuses
// make_passkey_example for each (length, depth, seed) cell.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset_document.hpp"
#include "data/passkey_prompt.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

struct PasskeyOptions {
  int64_t length = 1024;  // tokens of prompt + answer, the tokenizer's prefix (if any) included
  double depth = 0.5;     // in [0, 1]
  uint64_t seed = 0;      // picks the pass key
  int digits = 5;         // 1..18
};

struct PasskeyExample {
  std::vector<int64_t> prompt;  // ends with "... What is the pass key? The pass key is"
  std::vector<int64_t> answer;  // the tokens of " NNNNN"
  std::string passkey;          // "NNNNN"
  int64_t needle_begin = 0;     // [needle_begin, needle_end): the needle's tokens in prompt
  int64_t needle_end = 0;
  int64_t filler_tokens = 0;    // filler tokens in the prompt (before + after the needle)
  double depth = 0;             // realised: filler tokens before the needle / filler_tokens (0 if none)
};

inline constexpr const char* kPasskeyQuestion = "What is the pass key? The pass key is";

// The pass key of a seed: `digits` decimal digits, the first not zero.
std::string passkey_for_seed(uint64_t seed, int digits);

// Error(InvalidArgument) when depth is outside [0, 1], digits outside 1..18, or length below
// passkey_min_length (the needle, the question and the answer with no filler).
PasskeyExample make_passkey_example(const Tokenizer& tokenizer, const PasskeyOptions& options);
// The same example with its prompt left empty and written as runs to *prompt instead (prompt->tokens() equals
// make_passkey_example's prompt): what a long evaluation streams without holding the prompt's tokens.
PasskeyExample plan_passkey_example(const Tokenizer& tokenizer, const PasskeyOptions& options, PasskeyPrompt* prompt);
int64_t passkey_min_length(const Tokenizer& tokenizer, int digits = 5);

// `count` tokens of the filler text (its sentences in order, the last one cut), for padding after an answer.
std::vector<int64_t> passkey_filler(const Tokenizer& tokenizer, int64_t count);

// prompt + answer; answer_only: mask 1 on the answer tokens only, else on every token.
Document passkey_document(const PasskeyExample& example, bool answer_only);

}  // namespace memtx::data
