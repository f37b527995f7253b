// cli/cli_common.hpp: what every memtx-cli command shares: C API error checking, owned handles, option
// parsing (cxxopts with --help and --plugin-dir), the config options (--config-file, --set, and the seeds'
// flags such as --attention_list causal ssm), and the error-to-exit-code wrapper.
#pragma once
// Repeated options (--set a=[x, y]) are taken whole: no splitting of a value at commas.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "commands.hpp"
#include "memtx.h"

namespace memtx_cli {

// A failed C API call or bad command line: carries the message to the command's exit path.
struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws CliError "[CODE] message" for a failed status (and frees it).
void check(memtx_status* status);
// Copies a library-owned string and frees it: up to its NUL, or length bytes (text of the _n calls).
std::string take_string(char* text);
std::string take_string(char* text, size_t length);
// A memtx_token_callback that writes each piece of generated text to stdout at once (streamed output).
int print_text_piece(void* user_data, int64_t token, const char* piece, size_t length);

using Context = std::unique_ptr<memtx_context, decltype(&memtx_context_free)>;
using ConfigHandle = std::unique_ptr<memtx_config, decltype(&memtx_config_free)>;
using Model = std::unique_ptr<memtx_model, decltype(&memtx_model_free)>;

cxxopts::Options make_options(const std::string& command, const std::string& help);
// Parses args (args[0] is the command name); --help prints the help and exits 0. For a command with the
// config options (add_config_options), every config key is also a flag (--hidden_dim 256, see
// seed_flags.hpp): they are rewritten into --set assignments first, unknown flags fail with suggestions,
// and stray positional words fail.
cxxopts::ParseResult parse(cxxopts::Options& options, const Args& args);
Context open_context(const cxxopts::ParseResult& result);

void add_config_options(cxxopts::Options& options);
// --config-file/--config (required or the defaults), then every --set and config flag in command-line order.
ConfigHandle load_config(memtx_context* ctx, const cxxopts::ParseResult& result, bool required);
// Applies every --set key=value of the command line to cfg (CliError for a --set without '=').
void apply_set_options(memtx_config* cfg, const cxxopts::ParseResult& result);

// The model named by --model DIR (a memtx folder or checkpoint), --hf DIR (a Hugging Face folder), or a fresh
// one from --config/--config-file with --set overrides; CliError when none or both folders are given.
Model open_model(memtx_context* ctx, const cxxopts::ParseResult& result);

// Runs body, printing a CliError as one line on stderr with exit code 1.
template <typename Body>
int run(const char* command, Body&& body) {
  try {
    return body();
  } catch (const CliError& e) {
    std::cerr << "memtx-cli " << command << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace memtx_cli
