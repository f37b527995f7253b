// tests/tokenizer/tokenizer_load_test.cpp: load_tokenizer(spec): "byte", files and folders, tokenizer_config.json
// beside a tokenizer.json, and the documented error codes, each message naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "fixture_skip.hpp"

namespace {

namespace fs = std::filesystem;
using memtx::Error;
using memtx::StatusCode;
using memtx::data::load_tokenizer;

const fs::path kBpeFixtureDir = fs::path(MEMTX_FIXTURES_DIR) / "tokenizer-bpe";

class TokenizerLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("memtx_tok_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return dir_ / name;
  }
  // The error code of load_tokenizer(spec); the message must name `name`.
  StatusCode failure(const std::string& spec, const std::string& name) {
    try {
      load_tokenizer(spec);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      return e.code();
    }
    ADD_FAILURE() << "no error for " << spec;
    return StatusCode::Ok;
  }
  fs::path dir_;
};

TEST_F(TokenizerLoad, ByteNeedsNoFile) { EXPECT_EQ(load_tokenizer("byte")->kind(), "byte"); }

TEST_F(TokenizerLoad, MissingFilesAndFolders) {
  EXPECT_EQ(failure((dir_ / "nope.json").string(), "nope.json"), StatusCode::NotFound);
  EXPECT_EQ(failure((dir_ / "nope.model").string(), "nope.model"), StatusCode::NotFound);
  EXPECT_EQ(failure(dir_.string(), dir_.string()), StatusCode::NotFound);  // a folder without a tokenizer
  EXPECT_EQ(failure("", "tokenizer"), StatusCode::InvalidArgument);
}

TEST_F(TokenizerLoad, MalformedFiles) {
  EXPECT_EQ(failure(write("broken.json", "{\"model\": {\"type\": \"BPE\", ").string(), "broken.json"), StatusCode::Io);
  EXPECT_EQ(failure(write("empty.json", "").string(), "empty.json"), StatusCode::Io);
  EXPECT_EQ(failure(write("nomodel.json", "{\"version\": \"1.0\"}").string(), "nomodel.json"), StatusCode::Io);
  EXPECT_EQ(failure(write("junk.model", "\xFF\xFF\xFF").string(), "junk.model"), StatusCode::Io);
}

TEST_F(TokenizerLoad, UnsupportedTokenizerTypes) {
  const std::string wordlevel = R"({"model": {"type": "WordLevel", "vocab": {"a": 0}},
                                    "pre_tokenizer": {"type": "WhitespaceSplit"}})";
  const fs::path file = write("tokenizer.json", wordlevel);
  try {
    load_tokenizer(file.string());
    ADD_FAILURE() << "WordLevel accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("WordLevel"), std::string::npos) << e.what();
  }
  EXPECT_EQ(failure(dir_.string(), "tokenizer.json"), StatusCode::Config);  // found through the folder
}

TEST_F(TokenizerLoad, TokenizerConfigBesideTheFile) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  fs::copy_file(kBpeFixtureDir / "tokenizer.json", dir_ / "tokenizer.json");
  write("tokenizer_config.json", R"({"bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"},
                                     "pad_token": null})");
  auto tok = load_tokenizer(dir_.string());
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->pad_id(), 2);  // no pad token: eos stands in
  write("tokenizer_config.json", "{not json");
  EXPECT_EQ(failure(dir_.string(), "tokenizer_config.json"), StatusCode::Io);
}

TEST_F(TokenizerLoad, ContentDecidesWhenTheNameDoesNot) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  std::ifstream in(kBpeFixtureDir / "tokenizer.json", std::ios::binary);
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path file = write("my_tokenizer.bin", json);
  EXPECT_EQ(load_tokenizer(file.string())->kind(), "bpe");
}

}  // namespace
