// cli/chat_session.hpp: the chat mode of `memtx-cli session --chat`: each stdin line is a user message; the
// conversation is rendered in the model's chat format (memtx_chat_render: the tokenizer folder's template when
// memtx knows its family, else ChatML), only the text not yet in the session is fed, and the assistant's reply
// is generated (printed piece by piece as it is made) until the format's end-of-turn token.
#pragma once
#include <string>

#include "cli_common.hpp"

namespace memtx_cli {

struct ChatSettings {
  memtx_generate_options options;  // sampling of the replies (max_new_tokens etc.)
  std::string system;              // a system message opening the chat ("" = none, or the template's default)
};

// Reads stdin to its end (or /quit); /reset starts a new conversation, /state prints the
// session's position, /help lists the commands. Returns the
// exit code (1 when a line failed; the chat goes on).
int chat(memtx_model* model, memtx_session* session, const ChatSettings& settings);

}  // namespace memtx_cli
