// data/chat_format.hpp: the chat format of a model's tokenizer folder, for chatting with a model (memtx-cli
// session --chat, memtx_chat_render). memtx has no Jinja engine: it reads the folder's chat template (the
// "chat_template" of tokenizer_config.json, else chat_template.jinja, else chat_template.json) and recognises
// its family by the markers it writes:
//   chatml  (<|im_start|>, <|im_end|>):  "<|im_start|>{role}\n{content}<|im_end|>\n", generation prompt
//           "<|im_start|>assistant\n"; a default system message the template writes when the first message is
//           not a system one ("<|im_start|>system\n...<|im_end|>" with literal text, as in Qwen2) is kept;
//   llama3  (<|start_header_id|>, <|eot_id|>):  "<|begin_of_text|>" once, then
//           "<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>", generation prompt
//           "<|start_header_id|>assistant<|end_header_id|>\n\n".
// Without a template the format is ChatML (data/chat_template.hpp); a template of another family is not
// rendered: the format is ChatML and `warning` says why. Extras of a recognised template (tool calls, dates in
// the system message) are not reproduced.
#pragma once
#include <string>
#include <vector>

#include "data/chat_template.hpp"
#include "memtx/export.h"

namespace memtx::data {

struct ChatFormat {
  std::string name = "chatml";    // "chatml" or "llama3"
  std::string source = "default"; // the file the template came from, or "default"
  std::string end_of_turn = kImEnd;
  std::string default_system;     // chatml: the template's system message for chats that have none
  std::string warning;            // why the folder's template was not used ("" when it was, or there was none)
};

// The format of a template text (source names it in the warning).
MEMTX_API ChatFormat chat_format_of_template(const std::string& chat_template, const std::string& source);

// The format of a tokenizer spec (memtx's model.tokenizer: "byte", a tokenizer file, or a folder): the template
// in the folder, or beside the file. Error(Io) for a template file that is not valid JSON.
MEMTX_API ChatFormat chat_format_of_tokenizer(const std::string& tokenizer_spec);

// messages as text in the format; with add_generation_prompt it ends with the assistant's header.
MEMTX_API std::string render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                  bool add_generation_prompt);

}  // namespace memtx::data
