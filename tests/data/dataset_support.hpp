// tests/data/dataset_support.hpp: helpers of the dataset tests: a tiny byte-level test tokenizer (ids 0..255
// are bytes, 256 <|endoftext|>, 257 <|im_start|>, 258 <|im_end|>; optionally one that starts every
// encoding with a bos token 259), configurations over the builtin schema, per-test temporary folders, and
// an environment-variable guard.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "memtx/config.hpp"
#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dataset_test {

class TestTokenizer final : public memtx::data::Tokenizer {
 public:
  static constexpr int64_t kEos = 256, kImStart = 257, kImEnd = 258, kBos = 259;
  explicit TestTokenizer(bool add_bos = false) : add_bos_(add_bos) {}

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    if (add_bos_) ids.push_back(kBos);
    for (size_t i = 0; i < text.size();) {
      bool special = false;
      for (int64_t k = 0; k < 3; ++k) {
        const std::string s = kSpecials[k];
        if (text.compare(i, s.size(), s) == 0) {
          ids.push_back(256 + k);
          i += s.size();
          special = true;
          break;
        }
      }
      if (!special) ids.push_back(static_cast<unsigned char>(text[i++]));
    }
    return ids;
  }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) {
      if (id < 0 || id > 259) throw memtx::Error(memtx::StatusCode::InvalidArgument, "bad id " + std::to_string(id));
      if (id < 256) out += static_cast<char>(id);
      else if (id < 259) out += kSpecials[id - 256];
      else out += "<bos>";
    }
    return out;
  }
  int64_t vocab_size() const override { return 260; }
  std::optional<int64_t> token_id(const std::string& special) const override {
    for (int64_t k = 0; k < 3; ++k)
      if (special == kSpecials[k]) return 256 + k;
    return std::nullopt;
  }
  std::optional<int64_t> eos_id() const override { return kEos; }
  std::optional<int64_t> bos_id() const override { return add_bos_ ? std::optional<int64_t>(kBos) : std::nullopt; }
  std::optional<int64_t> pad_id() const override { return kEos; }
  std::string kind() const override { return "test-byte"; }

 private:
  static constexpr const char* kSpecials[3] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  bool add_bos_;
};

inline std::vector<int64_t> bytes(const std::string& s) {
  return std::vector<int64_t>(s.begin(), s.end());
}

inline memtx::Config config() {
  static auto schema =
      std::shared_ptr<const memtx::Schema>(&memtx::Schema::builtin(), [](const memtx::Schema*) {});
  return memtx::Config(schema);
}

using memtx_test::TempDir;  // a fresh folder per test, removed at the end

// Sets (or unsets, with nullopt) an environment variable for the guard's lifetime.
class EnvGuard {
 public:
  EnvGuard(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using memtx_test::error_of;  // runs f, which must throw memtx::Error with a code; returns its message

#define DS_EXPECT_CONTAINS(text, fragment) \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos) << "message: " << (text) << "\n  lacks: " << (fragment)

}  // namespace dataset_test
