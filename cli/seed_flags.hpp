// cli/seed_flags.hpp: the seeds' command-line flags. Every config key is also a flag of the commands that
// take a config: `--<name>` when the bare name belongs to one section only (`--n_kv_group 2`,
// `--attention_variant ssm`, `--hidden_dim 256`), or the full dotted key (`--model.hidden_dim 256`), which
// always works. Values:
//   bool         `--use_qk_norm` alone means true; `--use_qk_norm false` and `--use_qk_norm=false` also work
//                (the next word is taken when it looks like a bool: true, false, yes, no, on, off, 0, 1)
//   list         the following words up to the next option: `--attention_list causal infini ssm`
//   other types  the next word: `--max_steps 100`
// `--name=value` gives exactly one word, and `-` may stand for `_` (`--hidden-dim`). The command's own
// options win over config keys of the same name. translate_seed_flags turns each flag into
// `--set key=value` in its place, so the flags apply after the config file, in command-line order together
// with --set, through memtx_config_set (which checks the value against the key's type).
#pragma once
#include <set>
#include <string>
#include <vector>

namespace memtx_cli {

// One key of the schema (from memtx_config_schema): dotted key and type name ("bool", "int", "float",
// "string", "list of int", "list of string").
struct SchemaKey {
  std::string key;
  std::string type;
};

// One translated flag: the resolved dotted key, the value text for memtx_config_set, the flag as written.
struct FlagAssignment {
  std::string key;
  std::string value;
  std::string flag;
  bool operator==(const FlagAssignment& o) const { return key == o.key && value == o.value && flag == o.flag; }
};

struct SeedTranslation {
  std::vector<std::string> args;            // args with every config flag replaced by "--set" "key=value"
  std::vector<FlagAssignment> assignments;  // the config flags in command-line order
};

// The keys of memtx_config_schema's JSON text. Throws CliError when the text is not that array.
std::vector<SchemaKey> schema_keys_from_json(const std::string& json);

// True when args (args[0] is the command name) hold an option `--name` that is not among own_options (the
// command's long option names, without dashes), i.e. when the schema is needed to translate them.
bool has_config_flags(const std::vector<std::string>& args, const std::set<std::string>& own_options);

// Rewrites the config flags of args. Everything else (the command's own options, their values, positional
// words, short options, all after `--`) is kept in place. Throws CliError for an unknown flag (naming the
// command, with the nearest option names and keys), an ambiguous bare name (listing the full keys) and a
// flag missing its value.
SeedTranslation translate_seed_flags(const std::vector<std::string>& args, const std::set<std::string>& own_options,
                                     const std::vector<SchemaKey>& schema);

// Up to `limit` names from candidates closest to name by edit distance (ties keep candidate order), only
// those within max(2, |name| / 3) edits.
std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       size_t limit = 3);

}  // namespace memtx_cli
