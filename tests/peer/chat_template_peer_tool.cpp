// tests/peer/chat_template_peer_tool.cpp: memtx's side of chat_template_peer.py (memtx_data only, no LibTorch).
// Reads a JSON file (argv[1]) of cases {"template", "special_tokens": {name: text}, "messages": [{"role",
// "content"}], "add_generation_prompt"} and writes one JSON line per case: {"text": ...} when the template
// renders, {"error": ...} when it fails, {"fallback": warning} when the engine refused the template.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/chat_format.hpp"
#include "memtx/error.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: chat_template_peer_tool CASES.json\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  const auto cases = nlohmann::json::parse(text.str());
  for (const auto& c : cases) {
    nlohmann::json result;
    try {
      std::vector<std::pair<std::string, std::string>> tokens;
      for (const auto& [k, v] : c["special_tokens"].items()) tokens.emplace_back(k, v.get<std::string>());
      const auto format = memtx::data::chat_format_of_template(c["template"].get<std::string>(), "case", tokens);
      if (!format.engine) {
        result["fallback"] = format.warning;
      } else {
        std::vector<memtx::data::ChatMessage> messages;
        for (const auto& m : c["messages"]) messages.push_back({m["role"], m["content"]});
        result["text"] = memtx::data::render_chat(format, messages, c["add_generation_prompt"].get<bool>());
      }
    } catch (const memtx::Error& e) {
      result["error"] = e.what();
    }
    std::cout << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}
