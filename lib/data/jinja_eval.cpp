// data/jinja_eval.cpp: rendering a parsed chat template (see jinja_template.hpp): scopes, loops with the
// `loop` variable, macros, the globals (raise_exception, strftime_now, range, namespace, dict), operators,
// and the bounds on output, work and depth.
#include <climits>
#include <cmath>
#include <ctime>

#include "data/jinja_builtins.hpp"
#include "data/jinja_lexer.hpp"
#include "data/jinja_parser.hpp"
#include "data/jinja_template.hpp"
#include "memtx/error.hpp"

namespace memtx::data::jinja {

struct Template::Tree {
  Body body;
};

namespace {

// raise_exception(message) in the template.
struct Raised : Fault {
  using Fault::Fault;
};

using K = Value::Kind;

// Nested statement bodies and expressions being evaluated, macro calls included (each is a C++ stack frame;
// kept well within a 1 MiB thread stack).
constexpr int kMaxRenderDepth = 400;

class Renderer {
 public:
  Renderer(const std::string& name, const RenderLimits& limits, const Dict& variables)
      : name_(name), limits_(limits), budget_{limits.max_iterations, limits.max_output} {
    frames_.push_back(variables);
    frames_.emplace_back();  // the template's own top-level names
  }

  std::string run(const Body& body) {
    std::string out;
    out_ = &out;
    try {
      exec(body);
    } catch (const Raised& e) {
      throw Error(StatusCode::Config, "chat template " + name_ + " raised an exception (line " +
                                          std::to_string(line_) + "): " + e.what());
    } catch (const Fault& e) {
      throw Error(StatusCode::Config, "chat template " + name_ + ", line " + std::to_string(line_) + ": " + e.what());
    }
    return out;
  }

 private:
  enum class Flow { Normal, Break, Continue };

  void write(const std::string& s) {
    if (out_->size() + s.size() > limits_.max_output)
      throw Fault("the output is larger than " + std::to_string(limits_.max_output) + " bytes");
    *out_ += s;
  }

  const Value* lookup(const std::string& name) const {
    for (size_t k = frames_.size(); k-- > base_;)
      for (const auto& [n, v] : frames_[k])
        if (n == name) return &v;
    for (size_t k : {size_t(1), size_t(0)})
      if (k < base_)
        for (const auto& [n, v] : frames_[k])
          if (n == name) return &v;
    return nullptr;
  }

  [[gnu::noinline]] void assign(Dict& frame, const std::string& name, Value v) {
    for (auto& [n, x] : frame)
      if (n == name) {
        x = std::move(v);
        return;
      }
    frame.emplace_back(name, std::move(v));
  }

  Flow exec(const Body& body) {
    DepthGuard guard(*this);
    for (const auto& s : body) {
      line_ = s->line;
      switch (s->kind) {
        case Stmt::Kind::Text: write(s->text); break;
        case Stmt::Kind::Output: write(to_str(eval(*s->exprs[0]))); break;
        case Stmt::Kind::If: {
          size_t k = 0;
          for (; k < s->exprs.size(); ++k)
            if (truthy(eval(*s->exprs[k]))) break;
          if (k < s->bodies.size()) {
            const Flow f = exec(s->bodies[k]);
            if (f != Flow::Normal) return f;
          }
          break;
        }
        case Stmt::Kind::For: run_for(*s); break;
        case Stmt::Kind::Set: {
          Value v = eval(*s->exprs[0]);
          line_ = s->line;
          if (s->names.size() == 1) {
            assign(frames_.back(), s->names[0], std::move(v));
          } else {
            const Value* target = lookup(s->names[0]);
            if (!target || target->kind != K::Namespace)
              throw Fault("cannot set an attribute of '" + s->names[0] + "': it is not a namespace");
            const_cast<Value*>(target)->set(s->names[1], std::move(v));
          }
          break;
        }
        case Stmt::Kind::SetBlock: assign(frames_.back(), s->names[0], Value::string(capture(s->bodies[0]))); break;
        case Stmt::Kind::Macro: {
          Value m;
          m.kind = K::Macro;
          m.macro = std::make_shared<MacroDef>(MacroDef{s.get()});
          assign(frames_.back(), s->names[0], std::move(m));
          break;
        }
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
      }
    }
    return Flow::Normal;
  }

  std::string capture(const Body& body) {
    std::string text;
    std::string* saved = out_;
    out_ = &text;
    exec(body);
    out_ = saved;
    return text;
  }

  void bind(Dict& frame, const std::vector<std::string>& names, const Value& item) {
    if (names.size() == 1) {
      assign(frame, names[0], item);
      return;
    }
    if (item.kind != K::List || item.list->size() != names.size())
      throw Fault("cannot unpack a " + std::string(kind_name(item)) + " into " + std::to_string(names.size()) +
                  " loop variables");
    for (size_t k = 0; k < names.size(); ++k) assign(frame, names[k], (*item.list)[k]);
  }

  // The `loop` variable of iteration k.
  [[gnu::noinline]] static Value loop_value(const List& items, int64_t k) {
    const int64_t n = static_cast<int64_t>(items.size());
    return Value::dict_of({{"index", Value::integer(k + 1)},
                           {"index0", Value::integer(k)},
                           {"revindex", Value::integer(n - k)},
                           {"revindex0", Value::integer(n - k - 1)},
                           {"first", Value::boolean(k == 0)},
                           {"last", Value::boolean(k == n - 1)},
                           {"length", Value::integer(n)},
                           {"depth", Value::integer(1)},
                           {"depth0", Value::integer(0)},
                           {"previtem", k > 0 ? items[k - 1] : Value::undefined("previtem")},
                           {"nextitem", k + 1 < n ? items[k + 1] : Value::undefined("nextitem")}});
  }

  // (Not inlined: exec, which recurses, keeps a small stack frame; so do eval and call.)
  [[gnu::noinline]] void run_for(const Stmt& s) {
    const Value iterable = eval(*s.exprs[0]);
    List items;
    switch (iterable.kind) {
      case K::Undefined: break;
      case K::List: items = *iterable.list; break;
      case K::String:
        for (auto& c : utf8_chars(iterable.s)) items.push_back(Value::string(std::move(c)));
        break;
      case K::Dict:
        for (const auto& [k, v] : *iterable.dict) items.push_back(Value::string(k));
        break;
      default: throw Fault(std::string("a for loop over a ") + kind_name(iterable) + ", which is not iterable");
    }
    frames_.emplace_back();
    const size_t frame = frames_.size() - 1;
    if (s.exprs[1]) {  // the loop's `if` filter comes before loop.length and loop.index
      List kept;
      for (const Value& item : items) {
        budget_.spend(1);
        bind(frames_[frame], s.names, item);
        if (truthy(eval(*s.exprs[1]))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < n; ++k) {
      budget_.spend(1);
      bind(frames_[frame], s.names, items[k]);
      assign(frames_[frame], "loop", loop_value(items, k));
      const Flow f = exec(s.bodies[0]);
      if (f == Flow::Break) break;
    }
    frames_.resize(frame);
    if (n == 0 && s.bodies.size() > 1) exec(s.bodies[1]);
  }

  std::string describe(const Expr& e) const {
    if (e.kind == Expr::Kind::Name) return e.name;
    if (e.kind == Expr::Kind::Attr) return describe(*e.args[0]) + "." + e.name;
    if (e.kind == Expr::Kind::Item) return describe(*e.args[0]) + "[...]";
    return "a value";
  }

  Value object_of(const Expr& e) {
    Value obj = eval(*e.args[0]);
    if (obj.kind == K::Undefined) throw Fault("'" + describe(*e.args[0]) + "' is undefined");
    return obj;
  }

  struct DepthGuard {
    DepthGuard(Renderer& r) : r_(r) {
      if (++r_.depth_ > kMaxRenderDepth) throw Fault("statements and expressions nested too deeply");
    }
    ~DepthGuard() { --r_.depth_; }
    Renderer& r_;
  };

  Value eval(const Expr& e) {
    DepthGuard guard(*this);
    line_ = e.line;
    switch (e.kind) {
      case Expr::Kind::Literal: return e.value;
      case Expr::Kind::Name: {
        const Value* v = lookup(e.name);
        return v ? *v : Value::undefined(e.name);
      }
      case Expr::Kind::List: {
        List items;
        for (const auto& a : e.args) items.push_back(eval(*a));
        return Value::list_of(std::move(items));
      }
      case Expr::Kind::Dict: {
        Value d = Value::dict_of({});
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          const Value key = eval(*e.args[k]);
          d.set(key.kind == K::String ? key.s : to_str(key), eval(*e.args[k + 1]));
        }
        return d;
      }
      case Expr::Kind::Attr: {
        const Value obj = object_of(e);
        if (obj.is_mapping()) {
          const Value* v = obj.find(e.name);
          return v ? *v : Value::undefined(e.name);
        }
        return Value::undefined(e.name);
      }
      case Expr::Kind::Item: {
        const Value obj = object_of(e);
        return index_of(obj, eval(*e.args[1]));
      }
      case Expr::Kind::Slice: {
        const Value obj = object_of(e);
        Value parts[3];
        for (int k = 0; k < 3; ++k)
          if (e.args[k + 1]) parts[k] = eval(*e.args[k + 1]);
        return slice(obj, parts[0], parts[1], parts[2], budget_);
      }
      case Expr::Kind::Call: return call(e);
      case Expr::Kind::Filter: {
        const Value operand = eval(*e.args[0]);
        Args args;
        Kwargs kwargs;
        arguments(e, args, kwargs);
        line_ = e.line;
        return apply_filter(e.name, operand, args, kwargs, budget_);
      }
      case Expr::Kind::Test: {
        const Value operand = eval(*e.args[0]);
        Args args;
        Kwargs kwargs;
        arguments(e, args, kwargs);
        line_ = e.line;
        return Value::boolean(apply_test(e.name, operand, args) != (e.op == "not"));
      }
      case Expr::Kind::Unary: {
        const Value v = eval(*e.args[0]);
        if (e.op == "not") return Value::boolean(!truthy(v));
        if (v.kind == K::Int || v.kind == K::Bool) {
          const int64_t x = v.kind == K::Bool ? v.b : v.i;
          if (e.op == "-" && x == INT64_MIN) throw Fault("integer overflow");
          return Value::integer(e.op == "-" ? -x : x);
        }
        if (v.kind == K::Float) return Value::real(e.op == "-" ? -v.f : v.f);
        throw Fault("bad operand type for unary " + e.op + ": " + kind_name(v));
      }
      case Expr::Kind::Binary: return binary(e);
      case Expr::Kind::Cond:
        if (truthy(eval(*e.args[1]))) return eval(*e.args[0]);
        return e.args[2] ? eval(*e.args[2]) : Value::undefined();
    }
    return Value();
  }

  void arguments(const Expr& e, Args& args, Kwargs& kwargs) {
    for (size_t k = 1; k < e.args.size(); ++k) args.push_back(eval(*e.args[k]));
    for (const auto& [key, x] : e.kwargs) kwargs.emplace_back(key, eval(*x));
  }

  Value call(const Expr& e) {
    const Expr& callee = *e.args[0];
    Args args;
    Kwargs kwargs;
    if (callee.kind == Expr::Kind::Attr) {
      const Value obj = object_of(callee);
      if (obj.kind == K::String || obj.kind == K::Dict || obj.kind == K::List) {
        arguments(e, args, kwargs);
        line_ = e.line;
        bool found = false;
        Value v = call_method(obj, callee.name, args, kwargs, budget_, &found);
        if (found) return v;
        if (obj.kind != K::Dict) throw Fault(std::string("a ") + kind_name(obj) + " has no method '" + callee.name + "'");
      }
    }
    if (callee.kind == Expr::Kind::Name && !lookup(callee.name)) {
      arguments(e, args, kwargs);
      line_ = e.line;
      return global(callee.name, args, kwargs);
    }
    const Value f = eval(callee);
    if (f.kind != K::Macro) throw Fault("'" + describe(callee) + "' is not callable (a " + kind_name(f) + ")");
    arguments(e, args, kwargs);
    line_ = e.line;
    return call_macro(*f.macro->stmt, args, kwargs);
  }

  [[gnu::noinline]] Value call_macro(const Stmt& m, const Args& args, const Kwargs& kwargs) {
    if (++macro_depth_ > limits_.max_depth)
      throw Fault("macro calls nested deeper than " + std::to_string(limits_.max_depth));
    const size_t params = m.names.size() - 1;
    if (args.size() > params) throw Fault("macro '" + m.names[0] + "' takes " + std::to_string(params) + " arguments");
    const size_t saved_base = base_;
    frames_.emplace_back();
    base_ = frames_.size() - 1;
    for (size_t k = 0; k < params; ++k) {
      const std::string& p = m.names[k + 1];
      const Value* given = k < args.size() ? &args[k] : nullptr;
      for (const auto& [key, v] : kwargs)
        if (key == p) given = &v;
      Value v = given ? *given : m.exprs[k] ? eval(*m.exprs[k]) : Value::undefined(p);
      assign(frames_.back(), p, std::move(v));
    }
    const std::string text = capture(m.bodies[0]);
    frames_.resize(base_);
    base_ = saved_base;
    --macro_depth_;
    return Value::string(text);
  }

  [[gnu::noinline]] Value global(const std::string& name, const Args& args, const Kwargs& kwargs) {
    if (name == "raise_exception") throw Raised(args.empty() ? std::string() : to_str(args[0]));
    if (name == "range") {
      for (const Value& a : args)
        if (a.kind != K::Int) throw Fault("range needs integers");
      if (args.empty() || args.size() > 3) throw Fault("range takes 1 to 3 arguments");
      const int64_t start = args.size() > 1 ? args[0].i : 0, stop = args.size() > 1 ? args[1].i : args[0].i;
      const int64_t step = args.size() > 2 ? args[2].i : 1;
      if (step == 0) throw Fault("range: the step cannot be zero");
      const long double count = std::ceil((static_cast<long double>(stop) - start) / step);
      if (count > static_cast<long double>(budget_.items_left)) budget_.spend(budget_.items_left + 1);
      List out;
      for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
        out.push_back(Value::integer(k));
        if (step > 0 ? k > INT64_MAX - step : k < INT64_MIN - step) break;
      }
      budget_.spend(out.size());
      return Value::list_of(std::move(out));
    }
    if (name == "namespace" || name == "dict") {
      Value v = Value::dict_of({});
      if (name == "namespace") v.kind = K::Namespace;
      for (const Value& a : args) {
        if (!a.is_mapping()) throw Fault(name + " takes a mapping or keyword arguments");
        for (const auto& [k, x] : *a.dict) v.set(k, x);
      }
      for (const auto& [k, x] : kwargs) v.set(k, x);
      return v;
    }
    if (name == "strftime_now") {
      if (args.empty() || args[0].kind != K::String) throw Fault("strftime_now needs a format string");
      if (args[0].s.size() > 256) throw Fault("strftime_now: the format is longer than 256 bytes");
      std::tm tm{};
      if (limits_.now) {
        gmtime_r(&*limits_.now, &tm);
      } else {
        const std::time_t t = std::time(nullptr);
        localtime_r(&t, &tm);
      }
      char buf[1024];
      const size_t n = std::strftime(buf, sizeof buf, args[0].s.c_str(), &tm);
      return Value::string(std::string(buf, n));
    }
    throw Fault("'" + name + "' is undefined (called as a function)");
  }

  static bool int_like(const Value& v) { return v.kind == K::Int || v.kind == K::Bool; }
  static int64_t int_of(const Value& v) { return v.kind == K::Bool ? v.b : v.i; }

  [[gnu::noinline]] Value binary(const Expr& e) {
    const std::string& op = e.op;
    if (op == "and") {
      Value a = eval(*e.args[0]);
      return truthy(a) ? eval(*e.args[1]) : a;
    }
    if (op == "or") {
      Value a = eval(*e.args[0]);
      return truthy(a) ? a : eval(*e.args[1]);
    }
    const Value a = eval(*e.args[0]);
    const Value b = eval(*e.args[1]);
    line_ = e.line;
    if (op == "~") {
      std::string s = to_str(a) + to_str(b);
      budget_.spend_copy(s.size());
      return Value::string(std::move(s));
    }
    if (op == "==") return Value::boolean(equal(a, b));
    if (op == "!=") return Value::boolean(!equal(a, b));
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      bool ok = true;
      const bool lt = op == "<" ? less(a, b, &ok) : op == ">" ? less(b, a, &ok) : op == "<=" ? !less(b, a, &ok) : !less(a, b, &ok);
      if (!ok) throw Fault(std::string("cannot compare a ") + kind_name(a) + " with a " + kind_name(b));
      return Value::boolean(lt);
    }
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.kind == K::String) {
        if (a.kind != K::String) throw Fault(std::string("'in <string>' needs a string on the left, not a ") + kind_name(a));
        found = b.s.find(a.s) != std::string::npos;
      } else if (b.kind == K::List) {
        for (const Value& x : *b.list)
          if (equal(x, a)) found = true;
      } else if (b.is_mapping()) {
        found = a.kind == K::String && b.find(a.s);
      } else if (b.kind != K::Undefined) {
        throw Fault(std::string("'in' needs a container on the right, not a ") + kind_name(b));
      }
      return Value::boolean(found == (op == "in"));
    }
    if (a.kind == K::Undefined || b.kind == K::Undefined)
      throw Fault("'" + describe(*e.args[a.kind == K::Undefined ? 0 : 1]) + "' is undefined (operand of " + op + ")");
    if (op == "+") {
      if (a.kind == K::String && b.kind == K::String) {
        budget_.spend_copy(a.s.size() + b.s.size());
        return Value::string(a.s + b.s);
      }
      if (a.kind == K::List && b.kind == K::List) {
        budget_.spend(a.list->size() + b.list->size());
        List out = *a.list;
        out.insert(out.end(), b.list->begin(), b.list->end());
        return Value::list_of(std::move(out));
      }
    }
    if (op == "*" && (a.kind == K::String || a.kind == K::List) != (b.kind == K::String || b.kind == K::List)) {
      const Value& seq = a.kind == K::String || a.kind == K::List ? a : b;
      const Value& times = &seq == &a ? b : a;
      if (!int_like(times)) throw Fault("a sequence can only be repeated an integer number of times");
      const int64_t n = std::max<int64_t>(0, int_of(times));
      if (seq.kind == K::String) {
        if (!seq.s.empty() && static_cast<uint64_t>(n) > limits_.max_output / seq.s.size())
          budget_.check_string(limits_.max_output + 1);
        std::string out;
        for (int64_t k = 0; k < n; ++k) out += seq.s;
        return Value::string(std::move(out));
      }
      if (!seq.list->empty() && static_cast<uint64_t>(n) > budget_.items_left / seq.list->size())
        budget_.spend(budget_.items_left + 1);
      List out;
      for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
      budget_.spend(out.size());
      return Value::list_of(std::move(out));
    }
    if (!a.is_number() || !b.is_number())
      throw Fault("unsupported operand types for " + op + ": " + kind_name(a) + " and " + kind_name(b));
    if (int_like(a) && int_like(b) && op != "/") {
      const int64_t x = int_of(a), y = int_of(b);
      int64_t r = 0;
      if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value::integer(r);
      if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value::integer(r);
      if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value::integer(r);
      if (op == "//" || op == "%") {
        if (y == 0) throw Fault("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) throw Fault("integer overflow");
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
          --q;
          m += y;
        }
        return Value::integer(op == "//" ? q : m);
      }
      if (op == "**") {
        if (y < 0) return Value::real(std::pow(double(x), double(y)));
        int64_t p = 1;
        for (int64_t k = 0; k < y; ++k) {
          if (__builtin_mul_overflow(p, x, &p)) throw Fault("integer overflow in **");
          if (p == 0 || p == 1) break;
        }
        if (x == -1) p = (y % 2) ? -1 : 1;
        return Value::integer(p);
      }
      throw Fault("integer overflow in " + op);
    }
    const double x = a.number(), y = b.number();
    if (op == "+") return Value::real(x + y);
    if (op == "-") return Value::real(x - y);
    if (op == "*") return Value::real(x * y);
    if (op == "**") return Value::real(std::pow(x, y));
    if (y == 0) throw Fault("division by zero");
    if (op == "/") return Value::real(x / y);
    if (op == "//") return Value::real(std::floor(x / y));
    if (op == "%") return Value::real(x - y * std::floor(x / y));
    throw Fault("unknown operator " + op);
  }

  const std::string& name_;
  const RenderLimits& limits_;
  Budget budget_;
  std::vector<Dict> frames_;
  size_t base_ = 1;
  std::string* out_ = nullptr;
  int line_ = 1;
  int depth_ = 0;
  int macro_depth_ = 0;
};

}  // namespace

Template::Template(const std::string& source, std::string name) : name_(std::move(name)) {
  auto tree = std::make_shared<Tree>();
  tree->body = parse(tokenize(source, name_), name_);
  tree_ = std::move(tree);
}

Template::~Template() = default;

std::string Template::render(const Dict& variables, const RenderLimits& limits) const {
  return Renderer(name_, limits, variables).run(tree_->body);
}

}  // namespace memtx::data::jinja
