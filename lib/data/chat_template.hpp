// data/chat_template.hpp: chat records rendered with the ChatML template, as text and as tokens with a
// loss mask. Each message becomes "<|im_start|>{role}\n{content}<|im_end|>\n"; with a generation prompt
// the text ends in "<|im_start|>assistant\n". Tokenizers that know <|im_start|>/<|im_end|> as special
// tokens (the byte tokenizer, Qwen2) encode them as one id each; others encode them as plain text.
// In the token form every piece (header, content, end marker, newline) is encoded on its own, so the
// boundaries between masked and unmasked tokens fall exactly between pieces.
#pragma once
#include <string>
#include <vector>

#include "data/dataset_document.hpp"
#include "data/dataset_encode.hpp"

namespace memtx::data {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool", ...
  std::string content;
};

inline constexpr const char* kImStart = "<|im_start|>";
inline constexpr const char* kImEnd = "<|im_end|>";

std::string render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt = false);

// The tokens of render_chatml(messages) (after encoder.prefix(), which is included). assistant_only:
// mask = 1 on each assistant message's content and its <|im_end|>, 0 on everything else (the
// instruction_finetuning loss); otherwise every token has mask 1 (pretraining).
Document tokenize_chat(const PieceEncoder& encoder, const std::vector<ChatMessage>& messages,
                       bool assistant_only);

}  // namespace memtx::data
