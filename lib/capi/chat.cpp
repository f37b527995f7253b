// capi/chat.cpp: memtx_chat_render, the model's chat format (data/chat_format.hpp) applied to a JSON list of
// messages.
#include <nlohmann/json.hpp>

#include "capi/handles.hpp"
#include "data/chat_format.hpp"

using namespace memtx::capi;
using memtx::Error;
using memtx::StatusCode;

namespace {

std::vector<memtx::data::ChatMessage> parse_messages(const char* messages_json, const char* fn) {
  const auto j = nlohmann::json::parse(messages_json, nullptr, /*allow_exceptions=*/false);
  const std::string expected = "a JSON list of {\"role\": \"...\", \"content\": \"...\"} objects";
  if (j.is_discarded() || !j.is_array())
    throw Error(StatusCode::InvalidArgument, std::string(fn) + ": messages_json is not " + expected);
  std::vector<memtx::data::ChatMessage> messages;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      throw Error(StatusCode::InvalidArgument, std::string(fn) + ": messages_json[" + std::to_string(i) +
                                                   "] is not a {\"role\": string, \"content\": string} object");
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return messages;
}

}  // namespace

extern "C" {

memtx_status* memtx_chat_render(memtx_model* model, const char* messages_json, int add_generation_prompt,
                                char** out_json) {
  return guarded("memtx_chat_render", [&] {
    const char* fn = "memtx_chat_render";
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(model, fn, "model");
    require(messages_json, fn, "messages_json");
    require(out_json, fn, "out_json");
    const auto messages = parse_messages(messages_json, fn);
    const auto pass = use_model(*model, fn);
    const memtx::data::ChatFormat format = memtx::data::chat_format_of_tokenizer(model_tokenizer_spec(*model));
    nlohmann::ordered_json j = {{"text", memtx::data::render_chat(format, messages, add_generation_prompt != 0)},
                                {"format", format.name},
                                {"source", format.source},
                                {"end_of_turn", format.end_of_turn},
                                {"warning", format.warning}};
    *out_json = copy_string(json_text(j));
  });
}

}  // extern "C"
