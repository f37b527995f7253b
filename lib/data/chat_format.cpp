// data/chat_format.cpp: reading a tokenizer folder's chat template and special tokens, rendering chats with the
// template engine, and the by-family fallback (see chat_format.hpp).
#include "data/chat_format.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "memtx/error.hpp"
#include "memtx/read_file.hpp"

namespace memtx::data {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& text, const char* marker) { return text.find(marker) != std::string::npos; }

// The literal system message a ChatML template writes for chats without one ("" when it writes none). The
// newline after "system" is a real one or the two characters \n inside a Jinja string literal.
std::string chatml_default_system(const std::string& tmpl) {
  static const std::regex pattern(R"(<\|im_start\|>system(?:\n|\\n)([^'"{}<\\]+)<\|im_end\|>)");
  std::smatch m;
  return std::regex_search(tmpl, m, pattern) ? m[1].str() : std::string();
}

std::string trim(const std::string& s) {
  const char* space = " \t\n\r\f\v";
  const auto begin = s.find_first_not_of(space);
  if (begin == std::string::npos) return std::string();
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

// The template text of a JSON value: a string, or a list of {"name", "template"} (the one named "default").
std::string template_of(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array())
    for (const auto& entry : value)
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string())
        return entry["template"].get<std::string>();
  return std::string();
}

std::string json_template(const fs::path& file, const char* key) {
  const std::string text = read_file(file.string(), "chat template file", FileLimits::kConfig);
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(StatusCode::Io, "'" + file.string() + "' is not valid JSON");
  return j.is_object() && j.contains(key) ? template_of(j[key]) : std::string();
}

// The special tokens a tokenizer_config.json names: strings, or {"content": ...} objects.
std::vector<std::pair<std::string, std::string>> special_tokens_of(const fs::path& file) {
  std::vector<std::pair<std::string, std::string>> tokens;
  const std::string text = read_file(file.string(), "tokenizer config", FileLimits::kConfig);
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(StatusCode::Io, "'" + file.string() + "' is not valid JSON");
  if (!j.is_object()) return tokens;
  for (const char* name : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                           "mask_token"}) {
    if (!j.contains(name)) continue;
    const auto& v = j[name];
    if (v.is_string()) tokens.emplace_back(name, v.get<std::string>());
    else if (v.is_object() && v.contains("content") && v["content"].is_string())
      tokens.emplace_back(name, v["content"].get<std::string>());
  }
  return tokens;
}

// The format by the template's markers alone (for templates the engine refuses); `reason` says why.
ChatFormat family_fallback(const std::string& tmpl, const std::string& source, const std::string& reason) {
  ChatFormat format;
  format.source = source;
  const std::string why = "the chat template of " + source + " uses Jinja that memtx cannot render (" + reason + ")";
  if (has(tmpl, "<|im_start|>") && has(tmpl, "<|im_end|>")) {
    format.default_system = chatml_default_system(tmpl);
    format.warning = why + ": rendering it as a ChatML template";
  } else if (has(tmpl, "<|start_header_id|>") && has(tmpl, "<|eot_id|>")) {
    format.name = "llama3";
    format.end_of_turn = "<|eot_id|>";
    format.warning = why + ": rendering it as a Llama 3 template";
  } else {
    format.source = "default";
    format.warning = why + ", and it is of a family memtx does not know: using ChatML (<|im_start|>role ... "
                           "<|im_end|>) instead";
  }
  return format;
}

std::string token_named(const std::vector<std::pair<std::string, std::string>>& tokens, const char* name) {
  for (const auto& [k, v] : tokens)
    if (k == name) return v;
  return std::string();
}

}  // namespace

ChatFormat chat_format_of_template(const std::string& tmpl, const std::string& source,
                                   const std::vector<std::pair<std::string, std::string>>& special_tokens) {
  ChatFormat format;
  if (tmpl.empty()) return format;
  try {
    format.engine = std::make_shared<const jinja::Template>(tmpl, source);
  } catch (const Error& e) {
    ChatFormat fallback = family_fallback(tmpl, source, e.what());
    fallback.special_tokens = special_tokens;
    return fallback;
  }
  format.source = source;
  format.special_tokens = special_tokens;
  // The end of a turn: the family's marker, else the end-of-sequence token.
  static const std::pair<const char*, const char*> families[] = {
      {"chatml", "<|im_end|>"}, {"llama3", "<|eot_id|>"}, {"gemma", "<end_of_turn>"}, {"phi3", "<|end|>"}};
  format.name = "template";
  format.end_of_turn = token_named(special_tokens, "eos_token");
  for (const auto& [family, marker] : families)
    if (has(tmpl, marker)) {
      format.name = family;
      format.end_of_turn = marker;
      break;
    }
  return format;
}

ChatFormat chat_format_of_tokenizer(const std::string& spec) {
  if (spec.empty() || spec == "byte") return ChatFormat();
  std::error_code ec;
  const fs::path path(spec);
  const fs::path dir = fs::is_directory(path, ec) ? path : path.parent_path();
  const fs::path config = dir / "tokenizer_config.json", jinja = dir / "chat_template.jinja",
                 json = dir / "chat_template.json";
  std::vector<std::pair<std::string, std::string>> tokens;
  if (fs::is_regular_file(config, ec)) {
    tokens = special_tokens_of(config);
    const std::string tmpl = json_template(config, "chat_template");
    if (!tmpl.empty()) return chat_format_of_template(tmpl, config.string(), tokens);
  }
  if (fs::is_regular_file(jinja, ec))
    return chat_format_of_template(read_file(jinja.string(), "chat template file", FileLimits::kConfig),
                                   jinja.string(), tokens);
  if (fs::is_regular_file(json, ec))
    return chat_format_of_template(json_template(json, "chat_template"), json.string(), tokens);
  return ChatFormat();
}

std::string render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
  if (format.engine) {
    jinja::List list;
    for (const auto& m : messages)
      list.push_back(jinja::Value::dict_of({{"role", jinja::Value::string(m.role)},
                                            {"content", jinja::Value::string(m.content)}}));
    jinja::Dict vars;
    for (const auto& [name, text] : format.special_tokens) vars.emplace_back(name, jinja::Value::string(text));
    vars.emplace_back("messages", jinja::Value::list_of(std::move(list)));
    vars.emplace_back("tools", jinja::Value::none());
    vars.emplace_back("documents", jinja::Value::none());
    vars.emplace_back("add_generation_prompt", jinja::Value::boolean(add_generation_prompt));
    try {
      return format.engine->render(vars);
    } catch (const Error&) {
      if (messages.empty()) return std::string();  // many templates read messages[0]
      throw;
    }
  }
  if (format.name == "llama3") {
    std::string out = "<|begin_of_text|>";
    for (const auto& m : messages)
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
    if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
  }
  if (!format.default_system.empty() && (messages.empty() || messages.front().role != "system")) {
    std::vector<ChatMessage> with_system{{"system", format.default_system}};
    with_system.insert(with_system.end(), messages.begin(), messages.end());
    return render_chatml(with_system, add_generation_prompt);
  }
  return render_chatml(messages, add_generation_prompt);
}

}  // namespace memtx::data
