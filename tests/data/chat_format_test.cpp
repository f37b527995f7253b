// Tests of data/chat_format: rendering a tokenizer folder's chat template with the template engine (ChatML with
// its default system message, Llama 3 with bos_token, Mistral with the eos_token as end of turn), the fallback
// by family markers for templates the engine refuses (with a warning naming the file and the reason), where
// the template and the special tokens are read from, and errors the template raises.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/chat_format.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;
using data::ChatMessage;

// A Qwen2-style template as tokenizer_config.json holds it after JSON decoding (real newlines in the literals).
const std::string kQwenLike =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
const std::string kLlama3Like =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
const std::string kMistralLike =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] "
    "+ ' [/INST]' }}{% else %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";

TEST(ChatFormat, ChatMLTemplateKeepsItsDefaultSystemMessage) {
  const auto f = data::chat_format_of_template(kQwenLike, "qwen/tokenizer_config.json");
  EXPECT_EQ(f.name, "chatml");
  EXPECT_EQ(f.source, "qwen/tokenizer_config.json");
  EXPECT_EQ(f.end_of_turn, "<|im_end|>");
  EXPECT_TRUE(f.engine);
  EXPECT_TRUE(f.warning.empty());
  EXPECT_EQ(data::render_chat(f, {{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  // A chat with its own system message gets no default one.
  EXPECT_EQ(data::render_chat(f, {{"system", "Be brief."}, {"user", "Hi"}}, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatFormat, Llama3TemplateRendersHeadersAndEotId) {
  const auto f = data::chat_format_of_template(kLlama3Like, "llama/tokenizer_config.json",
                                               {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}});
  EXPECT_EQ(f.name, "llama3");
  EXPECT_EQ(f.end_of_turn, "<|eot_id|>");
  EXPECT_EQ(data::render_chat(f, {{"user", "  Hi \n"}, {"assistant", "Hello"}}, true),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Rendering more messages extends the text of fewer (memtx-cli session --chat feeds only the new part).
  const std::string one = data::render_chat(f, {{"user", "Hi"}}, true);
  const std::string three = data::render_chat(f, {{"user", "Hi"}, {"assistant", "Yo"}, {"user", "Bye"}}, true);
  EXPECT_EQ(three.compare(0, one.size(), one), 0);
}

TEST(ChatFormat, OtherFamiliesEndTurnsWithTheEosToken) {
  const auto f = data::chat_format_of_template(kMistralLike, "mistral/tokenizer_config.json",
                                               {{"bos_token", "<s>"}, {"eos_token", "</s>"}});
  EXPECT_EQ(f.name, "template");
  EXPECT_EQ(f.source, "mistral/tokenizer_config.json");
  EXPECT_EQ(f.end_of_turn, "</s>");
  EXPECT_TRUE(f.warning.empty());
  EXPECT_EQ(data::render_chat(f, {{"user", "Hi"}, {"assistant", "Yo"}}, true), "<s>[INST] Hi [/INST]Yo</s>");
}

TEST(ChatFormat, TemplatesTheEngineRefusesFallBackByFamily) {
  // {% include %} is not supported: the markers decide, and the warning names the file and the reason.
  auto f = data::chat_format_of_template("{% include 'x' %}" + kQwenLike, "qwen/chat_template.jinja");
  EXPECT_FALSE(f.engine);
  EXPECT_EQ(f.name, "chatml");
  EXPECT_EQ(f.default_system, "You are a helpful assistant.");
  EXPECT_NE(f.warning.find("qwen/chat_template.jinja"), std::string::npos);
  EXPECT_NE(f.warning.find("include"), std::string::npos);
  EXPECT_EQ(data::render_chat(f, {{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  f = data::chat_format_of_template("{% include 'x' %}" + kMistralLike, "mistral/tokenizer_config.json");
  EXPECT_EQ(f.name, "chatml");
  EXPECT_EQ(f.source, "default");
  EXPECT_NE(f.warning.find("mistral/tokenizer_config.json"), std::string::npos);
  EXPECT_NE(f.warning.find("ChatML"), std::string::npos);
  EXPECT_EQ(data::render_chat(f, {{"user", "Hi"}}, true), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormat, TemplateErrorsNameTheFile) {
  const std::string strict =
      "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
      "{{ m['content'] }}{% endfor %}";
  const auto f = data::chat_format_of_template(strict, "strict/chat_template.jinja");
  EXPECT_EQ(data::render_chat(f, {}, true), "");
  EXPECT_EQ(data::render_chat(f, {{"user", "a"}, {"assistant", "b"}}, true), "ab");
  try {
    data::render_chat(f, {{"user", "a"}, {"user", "b"}}, true);
    ADD_FAILURE() << "raise_exception ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("strict/chat_template.jinja"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("roles must alternate"), std::string::npos);
  }
}

TEST(ChatFormat, ReadsTheTemplateBesideTheTokenizer) {
  const fs::path dir = fs::temp_directory_path() / ("memtx_chat_format_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  EXPECT_EQ(data::chat_format_of_tokenizer("byte").source, "default");
  EXPECT_EQ(data::chat_format_of_tokenizer(dir.string()).source, "default");  // no template: ChatML
  {
    std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "<|eot_id|>", "chat_template": [)"
                                                 << R"({"name": "tool_use", "template": "x"}, {"name": "default", )"
                                                 << R"("template": "<|start_header_id|>{{ m }}<|eot_id|>"}]})";
  }
  auto f = data::chat_format_of_tokenizer(dir.string());
  EXPECT_EQ(f.name, "llama3");
  EXPECT_EQ(f.source, (dir / "tokenizer_config.json").string());
  // A tokenizer file's folder is searched as well; chat_template.jinja is read when the config has none.
  { std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": {"content": "<|im_end|>"}, "bos_token": "<s>"})"; }
  { std::ofstream(dir / "chat_template.jinja") << "{{ '<|im_start|>' ~ role }}<|im_end|>"; }
  f = data::chat_format_of_tokenizer((dir / "tokenizer.json").string());
  EXPECT_EQ(f.name, "chatml");
  EXPECT_EQ(f.source, (dir / "chat_template.jinja").string());
  EXPECT_EQ(data::render_chat(f, {}, false), "<|im_start|><|im_end|>");
  { std::ofstream(dir / "chat_template.jinja") << "{{ bos_token }}|{{ eos_token }}|{{ pad_token }}"; }
  f = data::chat_format_of_tokenizer(dir.string());
  EXPECT_EQ(f.name, "template");
  EXPECT_EQ(f.end_of_turn, "<|im_end|>");
  EXPECT_EQ(data::render_chat(f, {}, false), "<s>|<|im_end|>|");
  { std::ofstream(dir / "tokenizer_config.json") << "{not json"; }
  try {
    data::chat_format_of_tokenizer(dir.string());
    ADD_FAILURE() << "broken tokenizer_config.json accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Io);
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memtx::test
