// cli/chat_session.cpp: `memtx-cli session --chat` (see chat_session.hpp), written against the public C API.
#include "chat_session.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace memtx_cli {
namespace {

// The rendered conversation and the format's facts (memtx_chat_render's JSON).
nlohmann::json render(memtx_model* model, const nlohmann::json& messages, bool add_generation_prompt) {
  char* raw = nullptr;
  const std::string text = messages.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  check(memtx_chat_render(model, text.c_str(), add_generation_prompt ? 1 : 0, &raw));
  return nlohmann::json::parse(take_string(raw));
}

class Chat {
 public:
  Chat(memtx_model* model, memtx_session* session, const ChatSettings& settings)
      : model_(model), session_(session), settings_(settings) {
    const auto info = render(model_, nlohmann::json::array(), false);
    const std::string warning = info["warning"].get<std::string>();
    if (!warning.empty()) std::cerr << "warning: " << warning << "\n";
    std::cerr << "chat format " << info["format"].get<std::string>() << " (" << info["source"].get<std::string>()
              << "); type a message, /reset, /state, /help or /quit" << std::endl;
    // The end-of-turn marker stops a reply when the tokenizer has it as one token.
    const std::string end = info["end_of_turn"].get<std::string>();
    size_t count = 0;
    int64_t id = 0;
    memtx_status* st = memtx_tokenize(model_, end.c_str(), &id, 1, &count);
    if (!st && count == 1) {
      end_of_turn_ = id;
    } else {
      memtx_status_free(st);
      std::cerr << "warning: the tokenizer has no single token for " << end
                << ": a reply ends only at end-of-sequence or --max_new_tokens" << std::endl;
    }
    reset_conversation();
  }

  void reset_conversation() {
    messages_ = nlohmann::json::array();
    if (!settings_.system.empty()) messages_.push_back({{"role", "system"}, {"content", settings_.system}});
    fed_.clear();
  }

  void reset() {
    check(memtx_session_reset(session_));
    reset_conversation();
  }

  // One user message: feed the new part of the conversation, then stream the reply.
  void say(const std::string& line) {
    messages_.push_back({{"role", "user"}, {"content", line}});
    try {
      answer();
    } catch (...) {
      messages_.erase(messages_.size() - 1);  // a failed turn is forgotten (the next one re-feeds as needed)
      throw;
    }
  }

 private:
  void answer() {
    const std::string text = render(model_, messages_, true)["text"].get<std::string>();
    if (text.compare(0, fed_.size(), fed_) != 0) {  // the template changed earlier turns: start over
      check(memtx_session_reset(session_));
      fed_.clear();
    }
    const std::string fresh = text.substr(fed_.size());
    check(memtx_session_feed_text_n(session_, fresh.data(), fresh.size(), nullptr, 0));
    fed_ = text;
    memtx_generate_options o = settings_.options;
    o.stop_tokens = end_of_turn_ ? &*end_of_turn_ : nullptr;
    o.n_stop_tokens = end_of_turn_ ? 1 : 0;
    o.on_token = print_text_piece;
    char* raw = nullptr;
    size_t length = 0;
    check(memtx_session_generate_text_n(session_, &o, &raw, &length));
    const std::string reply = take_string(raw, length);
    std::cout << std::endl;
    messages_.push_back({{"role", "assistant"}, {"content", reply}});
    fed_ += reply;  // the reply's tokens are in the stream; its end-of-turn comes with the next render
  }

  memtx_model* model_;
  memtx_session* session_;
  const ChatSettings& settings_;
  std::optional<int64_t> end_of_turn_;
  nlohmann::json messages_;
  std::string fed_;  // the conversation text in the session so far
};

const char* const kChatHelp =
    "each line is a user message, answered by the model; commands:\n"
    "  /reset    start a new conversation\n"
    "  /state    position and state bytes of the session\n"
    "  /help     this text\n"
    "  /quit     leave (as does end of input)\n";

}  // namespace

int chat(memtx_model* model, memtx_session* session, const ChatSettings& settings) {
  Chat conversation(model, session, settings);
  int status = 0;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    try {
      if (line == "/quit" || line == "/exit") break;
      if (line == "/help") {
        std::cout << kChatHelp << std::flush;
      } else if (line == "/state") {
        std::cout << "position " << memtx_session_position(session) << ", state bytes "
                  << memtx_session_state_bytes(session) << std::endl;
      } else if (line == "/reset") {
        conversation.reset();
        std::cout << "new conversation" << std::endl;
      } else if (!line.empty()) {
        conversation.say(line);
      }
    } catch (const CliError& e) {
      std::cerr << "error: " << e.what() << std::endl;
      status = 1;
    }
  }
  return status;
}

}  // namespace memtx_cli
