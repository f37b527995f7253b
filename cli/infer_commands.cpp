// cli/infer_commands.cpp: `memtx-cli generate` (continue a prompt with a model, printing each piece of text as
// its token is made) and `memtx-cli eval` (loss and perplexity over a config's evaluation split), written against
// the public C API only.
#include <iomanip>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "json_number.hpp"

namespace memtx_cli {
namespace {

void add_model_options(cxxopts::Options& options) {
  options.add_options()("model", "a memtx model folder or training checkpoint (config.yaml + model.safetensors)",
                        cxxopts::value<std::string>())(
      "hf", "a Hugging Face model folder (config.json + safetensors)", cxxopts::value<std::string>());
  add_config_options(options);
}

const char* stop_reason_name(memtx_stop_reason reason) {
  switch (reason) {
    case MEMTX_STOP_MAX_TOKENS: return "max_new_tokens";
    case MEMTX_STOP_TOKEN: return "stop_token";
    case MEMTX_STOP_CANCELLED: return "cancelled";
    case MEMTX_STOP_CALLBACK: return "callback";
    case MEMTX_STOP_MAX_TIME: return "max_time";
  }
  return "unknown";
}

}  // namespace

int cmd_generate(const Args& args) {
  return run("generate", [&] {
    auto options = make_options("generate", "Continue a prompt with a model and print the continuation");
    add_model_options(options);
    options.add_options()("p,prompt", "the text to continue", cxxopts::value<std::string>()->default_value(""))(
        "max_new_tokens", "most tokens to generate", cxxopts::value<int64_t>()->default_value("64"))(
        "temperature", "sampling temperature; 0 = greedy", cxxopts::value<float>()->default_value("1.0"))(
        "top_k", "keep the k most likely tokens; 0 = off", cxxopts::value<int64_t>()->default_value("0"))(
        "top_p", "keep the smallest set of tokens whose probability reaches p; 1 = off",
        cxxopts::value<float>()->default_value("1.0"))(
        "min_p", "drop tokens less likely than min_p times the most likely one; 0 = off",
        cxxopts::value<float>()->default_value("0"))(
        "repetition_penalty", "divide positive (multiply negative) logits of tokens already in the text; 1 = off",
        cxxopts::value<float>()->default_value("1.0"))(
        "max_time", "stop after this many seconds (the text so far is kept); 0 = no limit",
        cxxopts::value<double>()->default_value("0"))(
        "seed", "sampling seed (the same seed gives the same text)", cxxopts::value<uint64_t>()->default_value("0"))(
        "stop", "a token id that ends generation (repeatable)", cxxopts::value<std::vector<int64_t>>())(
        "ignore_eos", "do not stop at the tokenizer's end-of-sequence token")(
        "json", "print {\"prompt\", \"text\", \"stop_reason\"} as JSON at the end (instead of streaming the text)");
    auto result = parse(options, args);
    if ((result.count("model") || result.count("hf")) &&
        (result.count("set") || result.count("config-file") || result.count("config")))
      throw CliError("--config, --set and config flags describe a fresh model; a --model or --hf folder keeps its own "
                     "config");
    auto ctx = open_context(result);
    auto model = open_model(ctx.get(), result);
    memtx_generate_options o = memtx_generate_default_options();
    o.max_new_tokens = result["max_new_tokens"].as<int64_t>();
    o.temperature = result["temperature"].as<float>();
    o.top_k = result["top_k"].as<int64_t>();
    o.top_p = result["top_p"].as<float>();
    o.min_p = result["min_p"].as<float>();
    o.repetition_penalty = result["repetition_penalty"].as<float>();
    o.max_time = result["max_time"].as<double>();
    o.seed = result["seed"].as<uint64_t>();
    o.stop_at_eos = result.count("ignore_eos") ? 0 : 1;
    std::vector<int64_t> stops;
    if (result.count("stop")) stops = result["stop"].as<std::vector<int64_t>>();
    o.stop_tokens = stops.empty() ? nullptr : stops.data();
    o.n_stop_tokens = stops.size();
    const std::string prompt = result["prompt"].as<std::string>();
    const bool json = result.count("json") > 0;
    memtx_stop_reason reason = MEMTX_STOP_MAX_TOKENS;
    o.out_stop_reason = &reason;
    if (!json) o.on_token = print_text_piece;  // the text appears as it is made
    char* raw = nullptr;
    size_t length = 0;  // the continuation may hold NUL bytes
    check(memtx_generate_text_n(model.get(), prompt.data(), prompt.size(), &o, &raw, &length));
    const std::string text = take_string(raw, length);
    if (json) {
      nlohmann::json j = {{"prompt", prompt}, {"text", text}, {"stop_reason", stop_reason_name(reason)}};
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::cout << std::endl;
      if (reason == MEMTX_STOP_MAX_TIME) std::cerr << "stopped after --max_time seconds" << std::endl;
    }
    return 0;
  });
}

int cmd_eval(const Args& args) {
  return run("eval", [&] {
    auto options = make_options(
        "eval", "Mean next-token loss, perplexity and token accuracy of a model over the evaluation split its config (or --config, "
                "with --set overrides of the training keys) names");
    add_model_options(options);
    options.add_options()("json", "print the JSON report");
    auto result = parse(options, args);
    auto ctx = open_context(result);
    const bool from_folder = result.count("model") || result.count("hf");
    auto model = open_model(ctx.get(), result);
    // The data keys: a given --config (applied to a loaded model), else the model's own config, with --set.
    ConfigHandle cfg(nullptr, memtx_config_free);
    if (from_folder && (result.count("config-file") || result.count("config"))) {
      cfg = load_config(ctx.get(), result, /*required=*/true);
    } else {
      memtx_config* raw = nullptr;
      check(memtx_model_config(model.get(), &raw));
      cfg.reset(raw);
      if (from_folder) apply_set_options(cfg.get(), result);
    }
    char* raw = nullptr;
    check(memtx_evaluate(model.get(), cfg.get(), &raw));
    auto j = nlohmann::json::parse(take_string(raw));
    if (result.count("json")) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::cout << "split " << j["split"].get<std::string>() << ": loss " << std::fixed << std::setprecision(4)
              << json_number(j["loss"]) << ", perplexity " << std::setprecision(2) << json_number(j["perplexity"])
              << ", token accuracy " << std::setprecision(4) << json_number(j["accuracy"]) << " (" << j["tokens"] << " tokens, " << j["sequences"] << " sequences, " << j["batches"]
              << " batches, " << std::setprecision(2) << j["seconds"].get<double>() << " s)\n";
    if (j.contains("sequence_accuracy") && j["sequence_accuracy"].is_number())
      std::cout << "exact match (every counted token of a sequence right): " << std::setprecision(4)
                << j["sequence_accuracy"].get<double>() << " of " << j["scored_sequences"] << " sequences\n";
    return 0;
  });
}

}  // namespace memtx_cli
