// cli/cli_common.cpp: shared pieces of the memtx-cli commands (see cli_common.hpp).
#include "cli_common.hpp"

#include <set>

#include "seed_flags.hpp"

namespace memtx_cli {

namespace {

void add_long_names(std::set<std::string>& out, const std::string& name) {  // cxxopts 3.0: one long name
  if (!name.empty()) out.insert(name);
}
void add_long_names(std::set<std::string>& out, const std::vector<std::string>& names) {  // cxxopts 3.1+
  out.insert(names.begin(), names.end());
}

// Every long option name of the command (without dashes).
std::set<std::string> long_option_names(const cxxopts::Options& options) {
  std::set<std::string> out;
  for (const auto& group : options.groups())
    for (const auto& option : options.group_help(group).options) add_long_names(out, option.l);
  return out;
}

// The --plugin-dir folders written in args, before cxxopts has read them.
std::vector<std::string> plugin_dirs_in(const Args& args) {
  std::vector<std::string> dirs;
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--plugin-dir" && i + 1 < args.size()) dirs.push_back(args[++i]);
    else if (args[i].rfind("--plugin-dir=", 0) == 0) dirs.push_back(args[i].substr(13));
  }
  return dirs;
}

// The keys the command's context will know: the built-in ones and those of the default and --plugin-dir plugins.
std::vector<SchemaKey> schema_for(const Args& args) {
  memtx_context* raw = nullptr;
  check(memtx_context_create(nullptr, &raw));
  Context ctx(raw, memtx_context_free);
  for (const auto& dir : plugin_dirs_in(args)) check(memtx_plugin_load_dir(ctx.get(), dir.c_str()));
  char* text = nullptr;
  check(memtx_config_schema(ctx.get(), &text));
  return schema_keys_from_json(take_string(text));
}

const char* const kConfigFlagsHelp =
    "Config keys as flags: every key of `memtx-cli config-reference` is also an option, written --<name> when\n"
    "the name belongs to one section only and --<section>.<name> always:\n"
    "  --hidden_dim 256   --model.hidden_dim=256   --attention_variant ssm   --n_kv_group 2\n"
    "  --attention_list causal infini ssm   (a list takes the words up to the next option)\n"
    "  --use_qk_norm      (a bool alone is true; --use_qk_norm false)\n"
    "They and --set apply after the config file, in command-line order.\n";

}  // namespace

void check(memtx_status* status) {
  if (!status) return;
  std::string message = std::string("[") + memtx_status_code_name(memtx_status_get_code(status)) + "] " +
                        memtx_status_message(status);
  memtx_status_free(status);
  throw CliError(message);
}

std::string take_string(char* text) {
  std::string out(text ? text : "");
  memtx_string_free(text);
  return out;
}

std::string take_string(char* text, size_t length) {
  std::string out(text ? std::string(text, length) : std::string());
  memtx_string_free(text);
  return out;
}

int print_text_piece(void*, int64_t, const char* piece, size_t length) {
  if (piece && length > 0) std::cout.write(piece, static_cast<std::streamsize>(length));
  std::cout.flush();
  return 0;
}

cxxopts::Options make_options(const std::string& command, const std::string& help) {
  cxxopts::Options options("memtx-cli " + command, help);
  options.add_options()("h,help", "show this help")(
      "plugin-dir", "also load the plugins of this folder (repeatable)", cxxopts::value<std::vector<std::string>>());
  return options;
}

cxxopts::ParseResult parse(cxxopts::Options& options, const Args& args_in) {
  // A command that takes a config (it has --set) also takes every config key as a flag: those become
  // "--set key=value" in place before cxxopts reads the arguments.
  const std::set<std::string> own = long_option_names(options);
  const bool takes_config = own.count("set") > 0;
  Args args = args_in;
  if (takes_config && has_config_flags(args, own)) args = translate_seed_flags(args, own, schema_for(args)).args;
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    auto result = options.parse(static_cast<int>(argv.size()), argv.data());
    if (result.count("help")) {
      std::cout << options.help() << "\n" << (takes_config ? kConfigFlagsHelp : "");
      std::exit(0);
    }
    if (takes_config && !result.unmatched().empty())
      throw CliError("unexpected argument '" + result.unmatched().front() + "'");
    return result;
  } catch (const cxxopts::exceptions::exception& e) {
    throw CliError(e.what());
  }
}

Context open_context(const cxxopts::ParseResult& result) {
  memtx_context* raw = nullptr;
  check(memtx_context_create(nullptr, &raw));
  Context ctx(raw, memtx_context_free);
  if (result.count("plugin-dir")) {
    for (const auto& dir : result["plugin-dir"].as<std::vector<std::string>>()) check(memtx_plugin_load_dir(ctx.get(), dir.c_str()));
  }
  return ctx;
}

void add_config_options(cxxopts::Options& options) {
  options.add_options()("c,config-file", "YAML or JSON config", cxxopts::value<std::string>())(
      "config", "same as --config-file", cxxopts::value<std::string>())(
      "set", "override a key: --set model.hidden_dim=256 (repeatable; every key is also a flag, see below)", cxxopts::value<std::vector<std::string>>());
}

// The seeds' flags (--hidden_dim 256, ...) arrive here as --set assignments (parse translated them), in
// command-line order with the user's own --set.
ConfigHandle load_config(memtx_context* ctx, const cxxopts::ParseResult& result, bool required) {
  memtx_config* raw = nullptr;
  std::string path = result.count("config-file") ? result["config-file"].as<std::string>()
                     : result.count("config")    ? result["config"].as<std::string>()
                                                 : "";
  if (path.empty()) {
    if (required) throw CliError("--config-file is required");
    check(memtx_config_create(ctx, &raw));
  } else {
    check(memtx_config_load(ctx, path.c_str(), &raw));
  }
  ConfigHandle cfg(raw, memtx_config_free);
  apply_set_options(cfg.get(), result);
  return cfg;
}

void apply_set_options(memtx_config* cfg, const cxxopts::ParseResult& result) {
  if (!result.count("set")) return;
  for (const auto& assignment : result["set"].as<std::vector<std::string>>()) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos) throw CliError("--set expects key=value, got '" + assignment + "'");
    check(memtx_config_set(cfg, assignment.substr(0, eq).c_str(), assignment.substr(eq + 1).c_str()));
  }
}

Model open_model(memtx_context* ctx, const cxxopts::ParseResult& result) {
  const bool folder = result.count("model") > 0, hf = result.count("hf") > 0;
  if (folder && hf) throw CliError("give either --model or --hf, not both");
  memtx_model* raw = nullptr;
  if (folder) {
    check(memtx_model_load(ctx, result["model"].as<std::string>().c_str(), &raw));
  } else if (hf) {
    check(memtx_model_load_hf(ctx, result["hf"].as<std::string>().c_str(), &raw));
  } else if (result.count("config-file") || result.count("config")) {
    auto cfg = load_config(ctx, result, /*required=*/true);
    check(memtx_model_create(ctx, cfg.get(), &raw));
  } else {
    throw CliError("a model is required: --model DIR, --hf DIR or --config FILE");
  }
  return Model(raw, memtx_model_free);
}

}  // namespace memtx_cli
