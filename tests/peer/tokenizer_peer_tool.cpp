// tests/peer/tokenizer_peer_tool.cpp: the memtx side of the tokenizer peer test (tokenizer_peer.py). Reads a
// tokenizer.json and a JSON array of texts, and writes a JSON array with, per text, memtx's ids and the
// hex of the bytes memtx decodes those ids to (or the error). Linked to memtx_tokenizer only.
//   tokenizer_peer_tool TOKENIZER_JSON TEXTS_JSON OUT_JSON
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

std::string hex(const std::string& bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: tokenizer_peer_tool TOKENIZER_JSON TEXTS_JSON OUT_JSON\n";
    return 2;
  }
  try {
    const auto tok = memtx::data::load_tokenizer(argv[1]);
    std::ifstream in(argv[2]);
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json texts = nlohmann::json::parse(text.str());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : texts) {
      nlohmann::json row;
      try {
        const std::vector<int64_t> ids = tok->encode(t.get<std::string>());
        row["ids"] = ids;
        row["decoded_hex"] = hex(tok->decode(ids));
      } catch (const memtx::Error& e) {
        row["error"] = e.what();
      }
      out.push_back(std::move(row));
    }
    std::ofstream(argv[3]) << out.dump();
  } catch (const std::exception& e) {
    std::cerr << "tokenizer_peer_tool: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
