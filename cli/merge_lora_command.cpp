// cli/merge_lora_command.cpp: `memtx-cli merge-lora --model DIR --output DIR`: loads a memtx model folder or
// training checkpoint (e.g. the final_model of a LoRA or adapter run), folds every LoRA adapter into its
// projection's weight (memtx_model_merge_lora: W += lora_alpha / lora_rank * B A) and writes a standalone model
// folder (config.yaml + model.safetensors) that loads without adapters and without the base model's folder.
#include <nlohmann/json.hpp>

#include "cli_common.hpp"

namespace memtx_cli {
namespace {

int64_t total_parameters(memtx_model* model) {
  char* text = nullptr;
  check(memtx_model_describe(model, &text));
  return nlohmann::json::parse(take_string(text))["parameters"]["total"].get<int64_t>();
}

}  // namespace

int cmd_merge_lora(const Args& args) {
  return run("merge-lora", [&] {
    auto options = make_options("merge-lora", "Fold a model's LoRA adapters into its weights and save it standalone");
    options.add_options()("model", "a memtx model folder or training checkpoint (config.yaml + model.safetensors)",
                          cxxopts::value<std::string>())("output", "the folder to write (created when missing)",
                                                         cxxopts::value<std::string>());
    auto result = parse(options, args);
    if (!result.count("model") || !result.count("output")) throw CliError("--model DIR and --output DIR are required");
    auto ctx = open_context(result);
    const std::string input = result["model"].as<std::string>(), output = result["output"].as<std::string>();
    memtx_model* raw = nullptr;
    check(memtx_model_load(ctx.get(), input.c_str(), &raw));
    Model model(raw, memtx_model_free);
    const int64_t before = total_parameters(model.get());
    check(memtx_model_merge_lora(model.get()));
    const int64_t after = total_parameters(model.get());
    check(memtx_model_save(model.get(), output.c_str()));
    std::cout << (before == after ? "no LoRA adapters in " + input + "; saved unchanged to "
                                  : "merged the LoRA adapters of " + input + " (" + std::to_string(before - after) +
                                        " adapter parameters folded in) into ")
              << output << " (" << after << " parameters)\n";
    return 0;
  });
}

}  // namespace memtx_cli
