// cli/export_hf_command.cpp: `memtx-cli export-hf --model DIR | --hf DIR --output DIR [--peft DIR [--peft-base DIR]]`:
// writes a memtx model folder or checkpoint (or a Hugging Face folder read back) as a Hugging Face folder that
// transformers loads without custom code (memtx_model_save_hf: LoRA adapters folded in), and with --peft also
// its LoRA adapters as a PEFT adapter folder whose base is --peft-base (the model without adapters, written
// there) or the model's model.base_model_name.
#include "cli_common.hpp"

namespace memtx_cli {

int cmd_export_hf(const Args& args) {
  return run("export-hf", [&] {
    auto options = make_options("export-hf", "Write a model as a Hugging Face folder (and LoRA adapters for PEFT)");
    options.add_options()("model", "a memtx model folder or training checkpoint", cxxopts::value<std::string>())(
        "hf", "a Hugging Face folder (memtx imports it, then exports it)", cxxopts::value<std::string>())(
        "output", "the Hugging Face folder to write (created when missing)", cxxopts::value<std::string>())(
        "peft", "also write the LoRA adapters as a PEFT adapter folder here", cxxopts::value<std::string>())(
        "peft-base", "with --peft: write the model without its adapters here as the adapter's base",
        cxxopts::value<std::string>());
    auto result = parse(options, args);
    if (result.count("model") + result.count("hf") != 1 || !result.count("output"))
      throw CliError("one of --model DIR or --hf DIR, and --output DIR, are required");
    if (result.count("peft-base") && !result.count("peft")) throw CliError("--peft-base needs --peft DIR");
    auto ctx = open_context(result);
    const bool hf = result.count("hf") > 0;
    const std::string input = result[hf ? "hf" : "model"].as<std::string>();
    const std::string output = result["output"].as<std::string>();
    memtx_model* raw = nullptr;
    check(hf ? memtx_model_load_hf(ctx.get(), input.c_str(), &raw) : memtx_model_load(ctx.get(), input.c_str(), &raw));
    Model model(raw, memtx_model_free);
    check(memtx_model_save_hf(model.get(), output.c_str()));
    std::cout << "exported " << input << " to " << output << " (Hugging Face folder)\n";
    if (result.count("peft")) {
      const std::string adapter = result["peft"].as<std::string>();
      const std::string base = result.count("peft-base") ? result["peft-base"].as<std::string>() : "";
      check(memtx_model_save_peft(model.get(), adapter.c_str(), base.empty() ? nullptr : base.c_str()));
      std::cout << "wrote the LoRA adapters to " << adapter << " (PEFT)" << (base.empty() ? "" : ", their base to " + base)
                << "\n";
    }
    return 0;
  });
}

}  // namespace memtx_cli
