// cli/main.cpp: memtx-cli entry point: dispatches `memtx-cli <command> [options]`.
#include <cstring>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "memtx.h"

namespace {

struct Command {
  int (*run)(const memtx_cli::Args&);
  const char* help;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"plugins", {memtx_cli::cmd_plugins, "list loaded plugins, their variants and options"}},
      {"verify-config", {memtx_cli::cmd_verify_config, "load and validate a YAML/JSON config (--config-file X)"}},
      {"check-fixture", {memtx_cli::cmd_check_fixture, "compare memtx with a Hugging Face folder's io.safetensors"}},
      {"config-reference", {memtx_cli::cmd_config_reference, "print the Markdown reference of every config key"}},
      {"describe", {memtx_cli::cmd_describe, "build a model from a config and print its description"}},
      {"build-info", {memtx_cli::cmd_build_info, "LibTorch, CUDA, BLAS and ABI versions in use"}},
      {"demo", {memtx_cli::cmd_demo, "build a small model, run a forward pass, print the next tokens"}},
      {"train", {memtx_cli::cmd_train, "train a model (--config, --set, any key as a flag: --attention_list causal ssm)"}},
      {"plot", {memtx_cli::cmd_plot, "draw loss and learning-rate curves of a metrics.jsonl as SVG (-o, --png)"}},
      {"generate", {memtx_cli::cmd_generate, "continue a prompt (--model DIR | --hf DIR | --config X, --prompt TEXT)"}},
      {"eval", {memtx_cli::cmd_eval, "loss, perplexity and token accuracy over the evaluation split (--model DIR | --config X)"}},
      {"session", {memtx_cli::cmd_session, "stream text through a model: stdin lines, /generate N, /state (or --file PATH --piece N)"}},
      {"passkey", {memtx_cli::cmd_passkey, "passkey retrieval accuracy per length x depth (--lengths, --depths, --svg)"}},
      {"export-hf", {memtx_cli::cmd_export_hf, "write a model as a Hugging Face folder for transformers (--model DIR --output DIR, --peft DIR)"}},
      {"merge-lora", {memtx_cli::cmd_merge_lora, "fold LoRA adapters into the weights, save standalone (--model DIR --output DIR)"}},
  };
  return table;
}

void usage(std::ostream& out) {
  out << "memtx-cli " << memtx_version() << ": memory-augmented transformers\n\nusage: memtx-cli <command> [options]\n\n";
  for (const auto& [name, cmd] : commands()) out << "  " << name << std::string(18 - name.size(), ' ') << cmd.help << "\n";
  out << "\n`memtx-cli <command> --help` lists a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << memtx_version() << "\n";
    return 0;
  }
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::cerr << "memtx-cli: unknown command '" << argv[1] << "'\n\n";
    usage(std::cerr);
    return 2;
  }
  memtx_cli::Args args(argv + 1, argv + argc);  // args[0] is the command name
  try {
    return it->second.run(args);
  } catch (const std::exception& e) {
    std::cerr << "memtx-cli " << argv[1] << ": " << e.what() << "\n";
    return 2;
  }
}
