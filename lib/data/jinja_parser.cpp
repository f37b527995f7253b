// data/jinja_parser.cpp: recursive-descent parsing of chat templates, with Jinja's operator precedence
// (see jinja_parser.hpp).
#include "data/jinja_parser.hpp"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

#include "memtx/error.hpp"

namespace memtx::data::jinja {
namespace {

constexpr int kMaxNesting = 200;
constexpr int kMaxTreeDepth = 400;  // of an expression's tree (operator chains nest without recursion)

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& name) : t_(tokens), name_(name) {}

  Body run() {
    std::string end;
    Body body = body_until({}, &end);
    return body;
  }

 private:
  using K = Token::Kind;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(StatusCode::Config,
                "chat template " + name_ + ", line " + std::to_string(cur().line) + ": " + what);
  }
  const Token& cur() const { return t_[pos_]; }
  const Token& ahead(size_t n) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < t_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().kind == K::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == K::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case K::Eof: return "the end of the template";
      case K::BlockEnd: return "'%}'";
      case K::VarEnd: return "'}}'";
      case K::Text: return "text";
      case K::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(std::string("expected '") + op + "', found " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != K::Name) fail("expected a name, found " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != K::BlockEnd) fail("expected '%}', found " + describe(cur()));
    next();
  }

  struct Depth {
    explicit Depth(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("nesting deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    ~Depth() { --p_.depth_; }
    Parser& p_;
  };

  // e with its children attached: its depth, bounded.
  ExprPtr done(ExprPtr e) {
    for (const auto& a : e->args)
      if (a) e->depth = std::max(e->depth, a->depth + 1);
    for (const auto& [k, a] : e->kwargs) e->depth = std::max(e->depth, a->depth + 1);
    if (e->depth > kMaxTreeDepth) fail("an expression nested deeper than " + std::to_string(kMaxTreeDepth) + " levels");
    return e;
  }

  ExprPtr make(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // Statements up to one of the end tags ({% name ... %}; the name is consumed, *which says which one).
  Body body_until(const std::vector<std::string>& ends, std::string* which) {
    Depth depth(*this);
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.kind == K::Eof) {
        if (!ends.empty()) fail("the template ends inside a block: expected {% " + ends.front() + " %}");
        return body;
      }
      if (t.kind == K::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.kind == K::VarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Output;
        s->line = t.line;
        next();
        s->exprs.push_back(tuple(true));
        if (cur().kind != K::VarEnd) fail("expected '}}', found " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (t.kind == K::BlockBegin) {
        next();
        if (cur().kind != K::Name) fail("expected a tag name after '{%', found " + describe(cur()));
        for (const auto& end : ends)
          if (cur().text == end) {
            *which = end;
            next();
            return body;
          }
        statement(body);
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  void statement(Body& body) {
    const std::string tag = cur().text;
    const int line = cur().line;
    next();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    std::string end;
    if (tag == "if") {
      s->kind = Stmt::Kind::If;
      s->exprs.push_back(tuple(true));
      expect_block_end();
      for (;;) {
        s->bodies.push_back(body_until({"elif", "else", "endif"}, &end));
        if (end == "elif") {
          s->exprs.push_back(tuple(true));
          expect_block_end();
        } else if (end == "else") {
          expect_block_end();
          s->bodies.push_back(body_until({"endif"}, &end));
          expect_block_end();
          break;
        } else {
          expect_block_end();
          break;
        }
      }
    } else if (tag == "for") {
      s->kind = Stmt::Kind::For;
      const bool paren = skip_op("(");
      do s->names.push_back(expect_name());
      while (skip_op(","));
      if (paren) expect_op(")");
      if (!skip_name("in")) fail("expected 'in' in a for tag, found " + describe(cur()));
      s->exprs.push_back(tuple(false));
      s->exprs.push_back(skip_name("if") ? expression(true) : nullptr);
      if (is_name("recursive")) fail("recursive for loops are not supported");
      expect_block_end();
      s->bodies.push_back(body_until({"else", "endfor"}, &end));
      expect_block_end();
      if (end == "else") {
        s->bodies.push_back(body_until({"endfor"}, &end));
        expect_block_end();
      } else {
        s->bodies.emplace_back();
      }
    } else if (tag == "set") {
      s->names.push_back(expect_name());
      if (skip_op(".")) s->names.push_back(expect_name());
      if (is_op(",")) fail("set with several targets is not supported");
      if (skip_op("=")) {
        s->kind = Stmt::Kind::Set;
        s->exprs.push_back(tuple(true));
        expect_block_end();
      } else {
        if (s->names.size() != 1) fail("a block set needs a plain name");
        s->kind = Stmt::Kind::SetBlock;
        if (is_op("|")) fail("a filter on a block set is not supported");
        expect_block_end();
        s->bodies.push_back(body_until({"endset"}, &end));
        expect_block_end();
      }
    } else if (tag == "macro") {
      s->kind = Stmt::Kind::Macro;
      s->names.push_back(expect_name());
      expect_op("(");
      while (!is_op(")")) {
        s->names.push_back(expect_name());
        s->exprs.push_back(skip_op("=") ? expression(true) : nullptr);
        if (!skip_op(",")) break;
      }
      expect_op(")");
      expect_block_end();
      s->bodies.push_back(body_until({"endmacro"}, &end));
      expect_block_end();
    } else if (tag == "generation") {
      // Hugging Face's marker of the assistant's text (for assistant masks): rendered as its body.
      expect_block_end();
      Body inner = body_until({"endgeneration"}, &end);
      expect_block_end();
      for (auto& stmt : inner) body.push_back(std::move(stmt));
      return;
    } else if (tag == "break" || tag == "continue") {
      s->kind = tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
      expect_block_end();
    } else {
      pos_ -= 1;
      fail("unknown or unsupported tag '" + tag + "'");
    }
    body.push_back(std::move(s));
  }

  // An expression, or a tuple of them (a, b) written without parentheses (as a list).
  ExprPtr tuple(bool with_cond) {
    const int line = cur().line;
    ExprPtr first = with_cond ? expression(true) : or_expr();
    if (!is_op(",")) return first;
    auto list = make(Expr::Kind::List, line);
    list->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().kind == K::BlockEnd || cur().kind == K::VarEnd || is_op(")")) break;
      list->args.push_back(with_cond ? expression(true) : or_expr());
    }
    return done(std::move(list));
  }

  ExprPtr expression(bool with_cond) {
    Depth depth(*this);
    ExprPtr e = or_expr();
    while (with_cond && is_name("if")) {
      const int line = cur().line;
      next();
      auto c = make(Expr::Kind::Cond, line);
      c->args.push_back(std::move(e));
      c->args.push_back(or_expr());
      c->args.push_back(skip_name("else") ? expression(true) : nullptr);
      e = done(std::move(c));
    }
    return e;
  }

  ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, int line) {
    auto e = make(Expr::Kind::Binary, line);
    e->op = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return done(std::move(e));
  }

  // Left-associative binary operators (`ops`: names when `names`, else symbols) between operands.
  ExprPtr chain(ExprPtr (Parser::*operand)(), std::initializer_list<const char*> ops, bool names) {
    ExprPtr e = (this->*operand)();
    for (;;) {
      const char* hit = nullptr;
      for (const char* op : ops)
        if (names ? is_name(op) : is_op(op)) hit = op;
      if (!hit) return e;
      const int line = cur().line;
      next();
      e = binary(hit, std::move(e), (this->*operand)(), line);
    }
  }
  ExprPtr or_expr() { return chain(&Parser::and_expr, {"or"}, true); }
  ExprPtr and_expr() { return chain(&Parser::not_expr, {"and"}, true); }
  ExprPtr not_expr() {
    if (is_name("not")) {
      Depth depth(*this);
      auto e = make(Expr::Kind::Unary, cur().line);
      next();
      e->op = "not";
      e->args.push_back(not_expr());
      return done(std::move(e));
    }
    return compare();
  }
  ExprPtr compare() {
    ExprPtr e = math1();
    for (;;) {
      const int line = cur().line;
      std::string op;
      if (cur().kind == K::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                  cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && ahead(1).kind == K::Name && ahead(1).text == "in") {
        op = "not in";
        next();
        next();
      } else {
        return e;
      }
      e = binary(op, std::move(e), math1(), line);
    }
  }
  ExprPtr math1() { return chain(&Parser::concat, {"+", "-"}, false); }
  ExprPtr concat() { return chain(&Parser::math2, {"~"}, false); }
  ExprPtr math2() { return chain(&Parser::power, {"*", "/", "//", "%"}, false); }
  ExprPtr power() { return chain(&Parser::filtered_unary, {"**"}, false); }
  ExprPtr filtered_unary() { return unary(true); }
  ExprPtr unary(bool with_filter) {
    Depth depth(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make(Expr::Kind::Unary, cur().line);
      e->op = cur().text;
      next();
      e->args.push_back(unary(false));
      e = done(std::move(e));
    } else {
      e = primary();
    }
    e = postfix(std::move(e));
    if (with_filter) e = filters(std::move(e));
    return e;
  }

  ExprPtr primary() {
    Depth depth(*this);
    const Token& t = cur();
    const int line = t.line;
    if (t.kind == K::Name) {
      const std::string n = t.text;
      next();
      auto e = make(Expr::Kind::Literal, line);
      if (n == "true" || n == "True") e->value = Value::boolean(true);
      else if (n == "false" || n == "False") e->value = Value::boolean(false);
      else if (n == "none" || n == "None") e->value = Value::none();
      else {
        e->kind = Expr::Kind::Name;
        e->name = n;
      }
      return e;
    }
    if (t.kind == K::String) {
      std::string s;
      while (cur().kind == K::String) {
        s += cur().text;
        next();
      }
      auto e = make(Expr::Kind::Literal, line);
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.kind == K::Int || t.kind == K::Float) {
      auto e = make(Expr::Kind::Literal, line);
      errno = 0;
      if (t.kind == K::Int) {
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) fail("the integer " + t.text + " is too large");
        e->value = Value::integer(v);
      } else {
        e->value = Value::real(std::strtod(t.text.c_str(), nullptr));
      }
      next();
      return e;
    }
    if (skip_op("(")) {
      if (skip_op(")")) return make(Expr::Kind::List, line);
      ExprPtr e = tuple(true);
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto e = make(Expr::Kind::List, line);
      while (!is_op("]")) {
        e->args.push_back(expression(true));
        if (!skip_op(",")) break;
      }
      expect_op("]");
      return done(std::move(e));
    }
    if (skip_op("{")) {
      auto e = make(Expr::Kind::Dict, line);
      while (!is_op("}")) {
        e->args.push_back(expression(true));
        expect_op(":");
        e->args.push_back(expression(true));
        if (!skip_op(",")) break;
      }
      expect_op("}");
      return done(std::move(e));
    }
    fail("unexpected " + describe(t) + " in an expression");
  }

  void call_args(Expr& e) {
    expect_op("(");
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (cur().kind == K::Name && ahead(1).kind == K::Op && ahead(1).text == "=") {
        std::string key = cur().text;
        next();
        next();
        e.kwargs.emplace_back(std::move(key), expression(true));
      } else {
        if (!e.kwargs.empty()) fail("a positional argument follows a keyword argument");
        e.args.push_back(expression(true));
      }
      if (!skip_op(",")) break;
    }
    expect_op(")");
  }

  ExprPtr call_of(ExprPtr callee, int line) {
    auto c = make(Expr::Kind::Call, line);
    c->args.push_back(std::move(callee));
    call_args(*c);
    return done(std::move(c));
  }

  ExprPtr postfix(ExprPtr e) {
    int links = 0;
    for (;; ++links) {
      if (links > kMaxNesting) fail("a chain of more than " + std::to_string(kMaxNesting) + " accesses");
      const int line = cur().line;
      if (skip_op(".")) {
        auto a = make(Expr::Kind::Attr, line);
        a->args.push_back(std::move(e));
        if (cur().kind == K::Int) {  // x.0 is x[0]
          a->kind = Expr::Kind::Item;
          auto index = make(Expr::Kind::Literal, line);
          index->value = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
          next();
          a->args.push_back(std::move(index));
        } else {
          a->name = expect_name();
        }
        e = done(std::move(a));
      } else if (skip_op("[")) {
        ExprPtr parts[3];
        bool slice = false;
        for (int k = 0; k < 3; ++k) {
          if (!is_op(":") && !is_op("]")) parts[k] = expression(true);
          if (k < 2 && skip_op(":")) {
            slice = true;
          } else {
            break;
          }
        }
        expect_op("]");
        auto a = make(slice ? Expr::Kind::Slice : Expr::Kind::Item, line);
        a->args.push_back(std::move(e));
        if (!slice && !parts[0]) fail("an empty subscript []");
        for (int k = 0; k < (slice ? 3 : 1); ++k) a->args.push_back(std::move(parts[k]));
        e = done(std::move(a));
      } else if (is_op("(")) {
        e = call_of(std::move(e), line);
      } else {
        return e;
      }
    }
  }

  ExprPtr filters(ExprPtr e) {
    int links = 0;
    for (;; ++links) {
      if (links > kMaxNesting) fail("a chain of more than " + std::to_string(kMaxNesting) + " filters");
      const int line = cur().line;
      if (skip_op("|")) {
        auto f = make(Expr::Kind::Filter, line);
        f->name = expect_name();
        while (skip_op(".")) f->name += "." + expect_name();
        f->args.push_back(std::move(e));
        if (is_op("(")) call_args(*f);
        e = done(std::move(f));
      } else if (is_name("is")) {
        next();
        auto t = make(Expr::Kind::Test, line);
        if (skip_name("not")) t->op = "not";
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          call_args(*t);
        } else if ((cur().kind == K::Name || cur().kind == K::String || cur().kind == K::Int ||
                    cur().kind == K::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) fail("tests cannot be chained with 'is'");
          t->args.push_back(postfix(primary()));
        }
        e = done(std::move(t));
      } else if (is_op("(")) {
        e = call_of(std::move(e), line);
      } else {
        return e;
      }
    }
  }

  const std::vector<Token>& t_;
  const std::string& name_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& name) { return Parser(tokens, name).run(); }

}  // namespace memtx::data::jinja
