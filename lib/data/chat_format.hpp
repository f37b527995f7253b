// data/chat_format.hpp: the chat format of a model's tokenizer folder, for chatting with a model (memtx-cli
// session --chat, memtx_chat_render). memtx reads the folder's chat template (the "chat_template" of
// tokenizer_config.json, else chat_template.jinja, else chat_template.json) and renders it with its own engine
// for the Jinja subset chat templates use (data/jinja_template.hpp), as transformers' apply_chat_template does:
// the variables are messages, add_generation_prompt, tools = documents = none, and the special tokens that
// tokenizer_config.json names (bos_token, eos_token, pad_token, unk_token, ...). The end-of-turn marker that
// stops a reply comes from the template's markers (<|im_end|>, <|eot_id|>, <end_of_turn>, <|end|>), else the
// eos_token. Only when the engine refuses the template (syntax it does not support) is its family recognised
// by markers, with a warning naming the file and the reason:
//   chatml  (<|im_start|>, <|im_end|>):  "<|im_start|>{role}\n{content}<|im_end|>\n", generation prompt
//           "<|im_start|>assistant\n"; a literal default system message (as in Qwen2) is kept;
//   llama3  (<|start_header_id|>, <|eot_id|>):  "<|begin_of_text|>" once, then
//           "<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>", generation prompt
//           "<|start_header_id|>assistant<|end_header_id|>\n\n";
// and a template of another family falls back to ChatML. Without a template the format is ChatML
// (data/chat_template.hpp).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/chat_template.hpp"
#include "data/jinja_template.hpp"
#include "memtx/export.h"

namespace memtx::data {

struct ChatFormat {
  std::string name = "chatml";    // the family: "chatml", "llama3", "gemma", "phi3", or "template" (unknown)
  std::string source = "default"; // the file the template came from, or "default"
  std::string end_of_turn = kImEnd;
  std::string default_system;     // chatml: the template's system message for chats that have none
  std::string warning;            // why the folder's template was not used ("" when it was, or there was none)
  std::shared_ptr<const jinja::Template> engine;  // the parsed template (null: rendered by family)
  std::vector<std::pair<std::string, std::string>> special_tokens;  // bos_token, eos_token, ... for the template
};

// The format of a template text (source names it in errors and the warning; special_tokens are given to it).
MEMTX_API ChatFormat chat_format_of_template(
    const std::string& chat_template, const std::string& source,
    const std::vector<std::pair<std::string, std::string>>& special_tokens = {});

// The format of a tokenizer spec (memtx's model.tokenizer: "byte", a tokenizer file, or a folder): the template
// in the folder, or beside the file. Error(Io) for a template file that is not valid JSON.
MEMTX_API ChatFormat chat_format_of_tokenizer(const std::string& tokenizer_spec);

// messages as text in the format; with add_generation_prompt it ends with the assistant's header. Error(Config)
// when the template fails (raise_exception, a type error, a bound), naming the file; an empty chat whose
// rendering fails (templates that read messages[0]) is "".
MEMTX_API std::string render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                  bool add_generation_prompt);

}  // namespace memtx::data
