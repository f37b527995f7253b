// data/jinja_parser.hpp: a chat template's tokens (data/jinja_lexer.hpp) as a syntax tree
// (data/jinja_ast.hpp). Statements: if/elif/else, for (tuple targets, `if` filter, else), set (name, ns.attr,
// block form), macro, generation (its body is kept inline), break, continue. Nesting is bounded.
#pragma once
#include <string>
#include <vector>

#include "data/jinja_ast.hpp"
#include "data/jinja_lexer.hpp"

namespace memtx::data::jinja {

// The statements of a template. Error(Config) naming `name`, the line and the fault (an unknown tag, an
// unclosed block, an unexpected token, nesting past the limit).
Body parse(const std::vector<Token>& tokens, const std::string& name);

}  // namespace memtx::data::jinja
