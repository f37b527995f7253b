// data/chat_template.cpp: ChatML rendering and tokenization with the assistant-only loss mask.
#include "data/chat_template.hpp"

namespace memtx::data {

std::string render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  for (const auto& m : messages) {
    out += kImStart;
    out += m.role;
    out += '\n';
    out += m.content;
    out += kImEnd;
    out += '\n';
  }
  if (add_generation_prompt) {
    out += kImStart;
    out += "assistant\n";
  }
  return out;
}

Document tokenize_chat(const PieceEncoder& encoder, const std::vector<ChatMessage>& messages,
                       bool assistant_only) {
  Document doc;
  doc.append(encoder.prefix(), !assistant_only);
  const auto end_marker = encoder.piece(kImEnd);
  const auto newline = encoder.piece("\n");
  for (const auto& m : messages) {
    const bool counted = !assistant_only || m.role == "assistant";
    doc.append(encoder.piece(std::string(kImStart) + m.role + "\n"), !assistant_only);
    doc.append(encoder.piece(m.content), counted);
    doc.append(end_marker, counted);
    doc.append(newline, !assistant_only);
  }
  return doc;
}

}  // namespace memtx::data
