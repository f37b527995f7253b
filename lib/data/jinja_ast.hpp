// data/jinja_ast.hpp: the syntax tree of a chat template (data/jinja_parser.hpp builds it,
// data/jinja_eval.cpp runs it): expressions and statements, each with the line it starts on.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/jinja_value.hpp"

namespace memtx::data::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,  // value
    Name,     // name
    List,     // args: the items
    Dict,     // args: key, value, key, value, ...
    Attr,     // args[0].name
    Item,     // args[0][args[1]]
    Slice,    // args[0][args[1]:args[2]:args[3]] (absent parts are null)
    Call,     // args[0](args[1..], kwargs)
    Filter,   // args[0] | name(args[1..], kwargs)
    Test,     // args[0] is [not] name(args[1..]); op "not" when negated
    Unary,    // op args[0]: "-", "+", "not"
    Binary,   // args[0] op args[1]: + - * / // % ** ~ == != < <= > >= in "not in" and or
    Cond,     // args[0] if args[1] else args[2] (args[2] null: undefined)
  };
  Kind kind;
  int line;
  int depth = 1;  // of the tree under this node (bounded by the parser)
  Value value;
  std::string name;
  std::string op;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    Text,      // text
    Output,    // {{ exprs[0] }}
    If,        // exprs: the conditions of if/elif; bodies: one per condition, then the else body
    For,       // names: the targets; exprs[0] the iterable, exprs[1] the filter (may be null);
               // bodies[0] the body, bodies[1] the else body
    Set,       // names: the target (one name, or a name and an attribute: ns.x); exprs[0] the value
    SetBlock,  // names[0] = the rendered bodies[0]
    Macro,     // names[0] the macro, names[1..] its parameters; exprs: their defaults (null: none); bodies[0]
    Break,
    Continue,
  };
  Kind kind;
  int line;
  std::string text;
  std::vector<std::string> names;
  std::vector<ExprPtr> exprs;
  std::vector<Body> bodies;
};

// A macro value refers to its statement (which the template owns, and outlives a render).
struct MacroDef {
  const Stmt* stmt;
};

}  // namespace memtx::data::jinja
