// data/jinja_lexer.hpp: the tokens of a chat template (the Jinja subset of data/jinja_template.hpp): text
// between tags, the tag delimiters, and the names, literals and operators inside tags. Whitespace control is
// applied here, as Hugging Face's environment sets it: `{%-`/`-%}` (and the same on {{ }} and {# #}) strip
// the whitespace on that side, trim_blocks drops the newline after a block or comment tag, lstrip_blocks
// drops spaces and tabs between a line's start and a block or comment tag, and one trailing newline of the
// template is dropped. Comments produce no tokens.
#pragma once
#include <string>
#include <vector>

namespace memtx::data::jinja {

struct Token {
  enum class Kind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
  Kind kind;
  std::string text;  // Text: the text; String: the decoded literal; Name/Int/Float/Op: as written
  int line;
};

// The tokens of source (ending with Eof). Error(Config) naming `name`, the line and the fault (an unclosed
// tag, comment or string, an unexpected character).
std::vector<Token> tokenize(const std::string& source, const std::string& name);

}  // namespace memtx::data::jinja
