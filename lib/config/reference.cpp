// config/reference.cpp: Schema::markdown_reference(), the Markdown document generated from the schema
// (docs/config.md, `memtx-cli config-reference`): how values are written, one table per section, and the
// cross-field rules validate() enforces (the schema's rules, then the common ones).
#include <map>

#include "config/internal.hpp"

namespace memtx {

namespace {

const std::map<std::string, std::string>& section_intros() {
  static const std::map<std::string, std::string> intros = {
      {"model", "Architecture of the network: sizes, normalisation, positions, MLP, precision and device. In "
                "adapter mode (`base_model_name` set) these describe the pretrained model being wrapped."},
      {"attention", "The sequence mixers: which variant each layer uses and every variant's own options "
                    "(argument names as in the nanoGPT-fork seed). Plugins may add keys to this section."},
      {"memory", "Memory-token cross-attention (placement, sharing, low rank, chapter routing, quantisation) and "
                 "LoRA adapters."},
      {"training", "Learning rates, data, distribution, optimizer and schedule, precision, checkpoints, early "
                   "stopping and logging."},
      {"infini_attention", "Infini-attention layers: segment length, compressive memory and the gate that mixes "
                           "memory with local attention."},
  };
  return intros;
}

// Table cells may not contain raw '|' or line breaks.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string code(const std::string& s) { return "`" + s + "`"; }

std::string allowed(const OptionDef& d) {
  if (!d.expectation.empty()) return d.expectation;  // the option's own wording says it best
  if (d.type == ValueType::Bool) return "`true`, `false`";
  std::vector<std::string> parts;
  if (!d.choices.empty()) {
    std::vector<std::string> c;
    for (const auto& x : d.choices) c.push_back(code(x));
    parts.push_back((d.type == ValueType::StringList ? "each of " : "") + config_detail::join(c, ", "));
  }
  std::string b = config_detail::bounds_text(d);
  if (!b.empty()) parts.push_back(d.type == ValueType::IntList ? "each " + b : b);
  if (parts.empty()) return d.type == ValueType::StringList ? "any strings" : d.type == ValueType::String ? "any string" : "any";
  return config_detail::join(parts, "; ");
}

}  // namespace

std::string Schema::markdown_reference() const {
  std::string md;
  md += "# memtx configuration reference\n\n";
  md += "<!-- Generated from memtx::Schema::builtin() by markdown_reference(); do not edit by hand. Regenerate "
        "with: MEMTX_UPDATE_DOCS=1 ./build/tests/test_config --gtest_filter='ConfigReference.*' -->\n\n";
  md += "Every key is `section.name`. In a YAML (or JSON) file it sits inside its section:\n\n";
  md += "```yaml\nmodel:\n  hidden_dim: 256\nattention:\n  attention_list: [causal, infini]\n```\n\n";
  md += "On the command line and in `memtx_config_set` it is written `model.hidden_dim=256`; a bare name such as "
        "`hidden_dim` is accepted when only one section has it. Several files may be applied in order, later "
        "ones overriding earlier ones; keys not given keep the defaults below. Unknown sections and keys, wrong "
        "types, values outside the allowed set and malformed files are errors that name the file, line, key, "
        "value and expectation, with the nearest known key suggested for a misspelling. Nothing is silently "
        "ignored: a key set to a value other than its default that the model or the run would not read is an "
        "error too, naming the key and what would read it. Keys read by attention variants count only when a "
        "layer of the model is such a variant (the \"used by\" column; `memtx-cli plugins` lists each variant's "
        "keys), and some keys count only when their feature is on (LoRA keys need LoRA, early-stopping keys need "
        "early stopping, memory-layer keys need memory layers, and so on). `memtx-cli verify-config` reports all "
        "of these, as model creation and training would.\n\n";
  md += "## Writing values\n\n";
  md += "- **null**: `null`, `~`, or nothing after the colon. Only keys whose type says \"or null\" accept it.\n";
  md += "- **bool**: `true` or `false` (also `True`/`False`, `TRUE`/`FALSE`). `yes`, `no`, `on`, `off`, `1` and "
        "`0` are errors.\n";
  md += "- **int**: a decimal integer. A float with no fractional part (`2.0`, `1e3`) is accepted as that "
        "integer; `2.5` is an error.\n";
  md += "- **float**: decimal or scientific notation (`0.5`, `1e-4`, `1.0e-4`); an integer is accepted. Booleans "
        "are errors (a cap of `true` is not a cap).\n";
  md += "- **string**: any scalar; quote it to mean the text `true`, `false` or `null`. Words such as `no`, "
        "`yes`, `on` and `off` are ordinary strings (`mixed_precision: no` means the choice `no`).\n";
  md += "- **list of string**: `[a, b]` or a block list; a single string means a one-element list "
        "(`text_field: messages`). On the command line also `a,b` or `a b`.\n";
  md += "- **list of int**: `[0, 1, 5]` or a block list; on the command line also `0,1,5`.\n";
  md += "- A number written in quotes (`\"256\"`) is read as the number for int and float keys.\n\n";
  md += "Bounds: `[a, b]` includes both ends, `[a, b)` excludes `b`, `> a` excludes `a`.\n\n";

  const auto secs = sections();
  md += "## Sections\n\n";
  for (const auto& s : secs) md += "- [" + s + "](#" + s + ")\n";
  md += "- [Cross-field rules](#cross-field-rules)\n\n";

  for (const auto& s : secs) {
    md += "## " + s + "\n\n";
    auto intro = section_intros().find(s);
    if (intro != section_intros().end()) md += intro->second + "\n\n";
    md += "| key | type | default | allowed | description | used by |\n";
    md += "| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& d : options_) {
      if (config_detail::section_of(d.key) != s) continue;
      std::string type = value_type_name(d.type);
      if (d.nullable) type += " or null";
      md += "| " + code(config_detail::name_of(d.key)) + " | " + type + " | " +
            cell(code(d.default_value.to_string())) + " | " + cell(allowed(d)) + " | " + cell(d.doc) + " | " +
            cell(d.used_by) + " |\n";
    }
    md += "\n";
  }

  md += "## Cross-field rules\n\n";
  md += "`validate()` checks the rules that involve several keys (memtx checks them before any tensor is "
        "allocated) and reports every broken one, naming the keys and their values:\n\n";
  for (const auto& r : rules_) md += "- " + r.text + "\n";
  for (const auto& r : config_detail::common_rules()) md += "- " + r.text + "\n";
  return md;
}

}  // namespace memtx
