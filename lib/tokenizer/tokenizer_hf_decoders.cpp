// tokenizer/tokenizer_hf_decoders.cpp: the Hugging Face decoders over lists of token strings.
#include "tokenizer/tokenizer_hf_decoders.hpp"

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

const char* const kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string out;
    for (const std::string& t : tokens) {
      std::string bytes;
      bool all = true;
      for (const unicode::Unit& u : unicode::decode_utf8(t)) {
        const int b = u.cp == unicode::kInvalid ? -1 : byte_level_byte(u.cp);
        if (b < 0) {
          all = false;
          break;
        }
        bytes += static_cast<char>(b);
      }
      out += all ? bytes : t;
    }
    tokens.assign(1, std::move(out));
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, PrependScheme scheme)
      : replacement_(std::move(replacement)), scheme_(scheme) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string with = i == 0 && scheme_ != PrependScheme::Never ? "" : " ";
      std::string out;
      const std::string& t = tokens[i];
      for (size_t k = 0; k < t.size();) {
        if (!replacement_.empty() && t.compare(k, replacement_.size(), replacement_) == 0) {
          out += with;
          k += replacement_.size();
        } else {
          out += t[k++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      bool valid = true;
      for (const unicode::Unit& u : unicode::decode_utf8(pending)) valid = valid && u.cp != unicode::kInvalid;
      if (valid)
        out.push_back(pending);
      else
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back(kReplacementChar);
      pending.clear();
    };
    for (std::string& t : tokens) {
      const int hi = t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' ? hex_digit(t[3]) : -1;
      const int lo = hi >= 0 ? hex_digit(t[4]) : -1;
      if (lo >= 0) {
        pending += static_cast<char>(hi * 16 + lo);
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::string out;
      for (const PatternSpan& s : pattern_.find_matches(t))
        out += s.is_match ? content_ : t.substr(s.begin, s.end - s.begin);
      t = std::move(out);
    }
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      const std::vector<unicode::Unit> units = unicode::decode_utf8(t);
      auto is_content = [&](size_t i) { return t.compare(units[i].begin, units[i].length, content_) == 0; };
      size_t b = 0, e = units.size();
      for (size_t i = 0; i < start_ && b < e && is_content(b); ++i) ++b;
      for (size_t i = 0; i < stop_ && e > b && is_content(e - 1); ++i) --e;
      t = b == e ? std::string() : t.substr(units[b].begin, units[e - 1].begin + units[e - 1].length - units[b].begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = s.find(from, pos)) != std::string::npos; pos = at + from.size()) {
    out.append(s, pos, at - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0)
          t.erase(0, prefix_.size());
        else
          t.insert(0, " ");
      }
      if (cleanup_) {
        static const char* const kPairs[][2] = {{" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
                                                {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
                                                {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& p : kPairs) replace_all(t, p[0], p[1]);
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<DecoderPtr> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const DecoderPtr& s : steps_) s->decode_chain(tokens);
  }

 private:
  std::vector<DecoderPtr> steps_;
};

}  // namespace

DecoderPtr make_byte_level_decoder() { return std::make_shared<ByteLevelDecoder>(); }
DecoderPtr make_metaspace_decoder(std::string replacement, PrependScheme scheme) {
  return std::make_shared<MetaspaceDecoder>(std::move(replacement), scheme);
}
DecoderPtr make_byte_fallback_decoder() { return std::make_shared<ByteFallbackDecoder>(); }
DecoderPtr make_fuse_decoder() { return std::make_shared<FuseDecoder>(); }
DecoderPtr make_replace_decoder(Pattern pattern, std::string content) {
  return std::make_shared<ReplaceDecoder>(std::move(pattern), std::move(content));
}
DecoderPtr make_strip_decoder(std::string content, size_t start, size_t stop) {
  return std::make_shared<StripDecoder>(std::move(content), start, stop);
}
DecoderPtr make_wordpiece_decoder(std::string prefix, bool cleanup) {
  return std::make_shared<WordPieceDecoder>(std::move(prefix), cleanup);
}
DecoderPtr make_bpe_decoder(std::string suffix) { return std::make_shared<BpeDecoder>(std::move(suffix)); }
DecoderPtr make_sequence_decoder(std::vector<DecoderPtr> steps) {
  return std::make_shared<SequenceDecoder>(std::move(steps));
}

std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens) {
  std::string out;
  if (decoder == nullptr) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  decoder->decode_chain(tokens);
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace memtx::data
