// tests/config/test_reference.cpp: docs/config.md is exactly the markdown_reference() of the shipped schema
// (builtin keys and rules plus those the shipped plugins declare).
// Regenerate it with: MEMTX_UPDATE_DOCS=1 ./build/tests/test_config --gtest_filter='ConfigReference.*'
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "helpers.hpp"

namespace {

const char* kDocPath = MEMTX_SOURCE_DIR "/docs/config.md";

}  // namespace

TEST(ConfigReference, DocsMatchTheSchema) {
  const std::string want = memtx_test::shipped()->markdown_reference();
  const char* update = std::getenv("MEMTX_UPDATE_DOCS");
  if (update && std::string(update) == "1") {
    std::ofstream out(kDocPath, std::ios::binary | std::ios::trunc);
    out << want;
    ASSERT_TRUE(out.good()) << "cannot write " << kDocPath;
    return;
  }
  std::ifstream in(kDocPath, std::ios::binary);
  ASSERT_TRUE(in.good()) << kDocPath << " is missing; generate it with: MEMTX_UPDATE_DOCS=1 "
                         << "./build/tests/test_config --gtest_filter='ConfigReference.*'";
  std::stringstream have;
  have << in.rdbuf();
  EXPECT_TRUE(have.str() == want) << kDocPath << " is out of date with the schema; regenerate it with: "
                                  << "MEMTX_UPDATE_DOCS=1 ./build/tests/test_config --gtest_filter='ConfigReference.*'";
}

TEST(ConfigReference, OneTablePerSectionAndEveryKey) {
  const memtx::Schema& s = *memtx_test::shipped();
  const std::string md = s.markdown_reference();
  for (const auto& section : s.sections()) EXPECT_CONTAINS(md, "\n## " + section + "\n");
  EXPECT_CONTAINS(md, "| key | type | default | allowed | description | used by |");
  for (const auto& d : s.options()) EXPECT_CONTAINS(md, "| `" + d.key.substr(d.key.find('.') + 1) + "` |");
  EXPECT_CONTAINS(md, "| `hidden_dim` | int | `768` | in [1, 65536] |");
  EXPECT_CONTAINS(md, "| `dropout` | float | `0.0` | in [0, 1) |");
  EXPECT_CONTAINS(md, "| `scheduler` | string | `cosine` | `cosine`, `linear`, `constant` |");
  EXPECT_CONTAINS(md, "| `lora_targets` | list of string | `[q_proj, v_proj]` | any strings |");
  EXPECT_CONTAINS(md, "| `base_model_name` | string or null | `null` |");
  EXPECT_CONTAINS(md, "| `use_rope` | bool | `true` | `true`, `false` |");
  EXPECT_CONTAINS(md, "| `memory_quant_bits` | int | `8` | 4 or 8 |");
  EXPECT_CONTAINS(md, "## Cross-field rules");
}
