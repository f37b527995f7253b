// data/jinja_lexer.cpp: splitting a chat template into tokens, with Jinja's whitespace control (see
// jinja_lexer.hpp).
#include "data/jinja_lexer.hpp"

#include <cctype>

#include "memtx/error.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& name) : name_(name) {
    // Newlines become \n, and one trailing newline goes (Jinja's keep_trailing_newline=False).
    src_.reserve(source.size());
    for (size_t k = 0; k < source.size(); ++k) {
      if (source[k] == '\r') {
        src_ += '\n';
        if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
      } else {
        src_ += source[k];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
  }

  std::vector<Token> run() {
    bool strip_next = false;  // the previous tag ended with -: strip the whitespace that follows
    while (pos_ < src_.size()) {
      size_t start = find_tag(pos_);
      std::string text = src_.substr(pos_, start - pos_);
      const bool line_starting = pos_ == 0 || src_[pos_ - 1] == '\n';
      if (strip_next) {
        size_t k = 0;
        while (k < text.size() && is_space(text[k])) ++k;
        text.erase(0, k);
      }
      strip_next = false;
      if (start == src_.size()) {
        emit_text(text);
        pos_ = start;
        break;
      }
      const char type = src_[start + 1];  // '{', '%' or '#'
      const char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      } else if (sign != '+' && type != '{') {
        const size_t line_start = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
        if (line_start > 0 || line_starting) {
          bool blank = true;
          for (size_t k = line_start; k < text.size(); ++k) blank = blank && is_space(text[k]);
          if (blank) text.erase(line_start);
        }
      }
      emit_text(text);
      count_lines(pos_, start);
      pos_ = start + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      if (type == '#') {
        strip_next = comment();
      } else {
        strip_next = tag(type);
      }
    }
    tokens_.push_back({Token::Kind::Eof, "", line_});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(StatusCode::Config, "chat template " + name_ + ", line " + std::to_string(line_) + ": " + what);
  }

  size_t find_tag(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k)
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
    return src_.size();
  }

  void count_lines(size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) line_ += src_[k] == '\n';
  }

  void emit_text(const std::string& text) {
    if (!text.empty()) tokens_.push_back({Token::Kind::Text, text, line_});
  }

  // After a block or comment end: trim_blocks drops one newline unless the tag ended with + (or -).
  void trim_newline() {
    if (pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }

  bool comment() {
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) fail("a comment {# is not closed with #}");
    const bool strip = end > pos_ && src_[end - 1] == '-';
    count_lines(pos_, end);
    pos_ = end + 2;
    if (!strip) trim_newline();
    return strip;
  }

  // The tokens inside a {{ }} or {% %} tag; true when it ends with -.
  bool tag(char type) {
    const bool block = type == '%';
    tokens_.push_back({block ? Token::Kind::BlockBegin : Token::Kind::VarBegin, "", line_});
    int depth = 0;
    for (;;) {
      while (pos_ < src_.size() && is_space(src_[pos_])) line_ += src_[pos_++] == '\n';
      if (pos_ >= src_.size()) fail(block ? "a tag {% is not closed with %}" : "a tag {{ is not closed with }}");
      const char c = src_[pos_];
      const char close = block ? '%' : '}';
      // The end of the tag: [-+]%} or [-]}} (}} only outside braces).
      for (const char sign : {'-', '+', '\0'}) {
        const size_t at = pos_ + (sign ? 1 : 0);
        if (sign && c != sign) continue;
        if (at + 1 < src_.size() && src_[at] == close && src_[at + 1] == '}' && (block || depth == 0)) {
          pos_ = at + 2;
          tokens_.push_back({block ? Token::Kind::BlockEnd : Token::Kind::VarEnd, "", line_});
          if (block && sign == '\0') trim_newline();
          return sign == '-';
        }
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t k = pos_;
        while (k < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[k])) || src_[k] == '_')) ++k;
        tokens_.push_back({Token::Kind::Name, src_.substr(pos_, k - pos_), line_});
        pos_ = k;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op(1, c);
        for (const char* t : two)
          if (src_.compare(pos_, 2, t) == 0) op = t;
        if (op.size() == 1 && std::string("+-*/%~<>=()[]{},.:|").find(c) == std::string::npos)
          fail(std::string("unexpected character '") + c + "' in a tag");
        if (c == '(' || c == '[' || c == '{') ++depth;
        if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        tokens_.push_back({Token::Kind::Op, op, line_});
        pos_ += op.size();
      }
    }
  }

  void number() {
    size_t k = pos_;
    auto digits = [&] {
      while (k < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[k])) || src_[k] == '_')) ++k;
    };
    digits();
    bool is_float = false;
    if (k + 1 < src_.size() && src_[k] == '.' && std::isdigit(static_cast<unsigned char>(src_[k + 1]))) {
      ++k;
      digits();
      is_float = true;
    }
    if (k < src_.size() && (src_[k] == 'e' || src_[k] == 'E')) {
      size_t e = k + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
        k = e;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t j = pos_; j < k; ++j)
      if (src_[j] != '_') text += src_[j];
    tokens_.push_back({is_float ? Token::Kind::Float : Token::Kind::Int, text, line_});
    pos_ = k;
  }

  void string(char quote) {
    const int first_line = line_;
    std::string out;
    size_t k = pos_ + 1;
    for (;; ++k) {
      if (k >= src_.size()) {
        line_ = first_line;
        fail("a string literal is not closed");
      }
      const char c = src_[k];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || k + 1 >= src_.size()) {
        out += c;
        continue;
      }
      const char e = src_[++k];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': case '\'': case '"': out += e; break;
        case '\n': ++line_; break;
        case 'x': case 'u': case 'U': {
          const size_t width = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (k + width >= src_.size()) fail("a \\" + std::string(1, e) + " escape is cut short");
          const std::string hex = src_.substr(k + 1, width);
          for (char h : hex)
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("a \\" + std::string(1, e) + " escape is not hex");
          const unsigned long cp = std::stoul(hex, nullptr, 16);
          if (cp > 0x10FFFF) fail("a \\U escape is past U+10FFFF");
          unicode::append_utf8(out, static_cast<char32_t>(cp));
          k += width;
          break;
        }
        default: out += '\\'; out += e;
      }
    }
    tokens_.push_back({Token::Kind::String, out, first_line});
    pos_ = k + 1;
  }

  const std::string& name_;
  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& name) {
  return Lexer(source, name).run();
}

}  // namespace memtx::data::jinja
