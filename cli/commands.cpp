// cli/commands.cpp: memtx-cli subcommands, written against the public C API only.
#include "commands.hpp"

#include "cli_common.hpp"
#include "json_number.hpp"

#include <iomanip>
#include <nlohmann/json.hpp>

namespace memtx_cli {

int cmd_plugins(const Args& args) {
  return run("plugins", [&] {
    auto options = make_options("plugins", "List loaded plugins, their variants and options");
    options.add_options()("json", "print the raw JSON");
    auto result = parse(options, args);
    auto ctx = open_context(result);
    char* text = nullptr;
    check(memtx_plugin_list(ctx.get(), &text));
    auto j = nlohmann::json::parse(take_string(text));
    if (result.count("json")) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    for (const auto& p : j["plugins"]) std::cout << "plugin " << p["name"].get<std::string>() << " " << p["version"].get<std::string>() << "  (" << p["file"].get<std::string>() << ")\n";
    for (const auto& v : j["variants"]) {
      std::cout << "\nvariant " << v["name"].get<std::string>() << (v.value("recurrent", false) ? " [recurrent]" : "") << ": "
                << v.value("description", "") << "\n";
      for (const auto& o : v["options"]) {
        std::cout << "  " << std::left << std::setw(36) << o["key"].get<std::string>() << std::setw(12)
                  << o["type"].get<std::string>() << " default " << o["default"].dump() << "\n";
      }
    }
    for (const auto& f : j.value("failures", nlohmann::json::array())) std::cout << "\nfailed: " << f["message"].get<std::string>() << "\n";
    return 0;
  });
}

int cmd_verify_config(const Args& args) {
  return run("verify-config", [&] {
    auto options = make_options("verify-config", "Load a config, apply overrides, validate every key and rule");
    add_config_options(options);
    options.add_options()("dump", "print the resolved config (YAML)")("json", "with --dump: print JSON");
    auto result = parse(options, args);
    auto ctx = open_context(result);
    auto cfg = load_config(ctx.get(), result, /*required=*/true);
    check(memtx_config_validate(cfg.get()));
    if (result.count("dump")) {
      char* text = nullptr;
      check(memtx_config_dump(cfg.get(), result.count("json") ? 1 : 0, &text));
      std::cout << take_string(text);
    }
    std::cout << "OK: " << (result.count("config-file") ? result["config-file"].as<std::string>() : result["config"].as<std::string>()) << " is valid\n";
    return 0;
  });
}

int cmd_check_fixture(const Args& args) {
  return run("check-fixture", [&] {
    auto options = make_options("check-fixture DIR", "Compare memtx with reference outputs (io.safetensors) of a Hugging Face folder");
    options.add_options()("dir", "model folder", cxxopts::value<std::string>())("json", "print the JSON report");
    options.parse_positional({"dir"});
    auto result = parse(options, args);
    if (!result.count("dir")) throw CliError("a model folder is required: memtx-cli check-fixture DIR");
    auto ctx = open_context(result);
    char* text = nullptr;
    check(memtx_check_fixture(ctx.get(), result["dir"].as<std::string>().c_str(), &text));
    auto j = nlohmann::json::parse(take_string(text));
    if (result.count("json")) {
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << j["architecture"].get<std::string>() << " (" << j["dir"].get<std::string>() << ")\n";
      for (const auto& t : j["tensors"]) {
        std::cout << "  " << std::left << std::setw(40) << t["name"].get<std::string>() << " max abs error "
                  << std::scientific << std::setprecision(3) << json_number(t["max_abs_error"]) << "  (tolerance "
                  << json_number(t["tolerance"]) << ") " << (t["ok"].get<bool>() ? "ok" : "FAIL") << "\n";
      }
      std::cout << (j["ok"].get<bool>() ? "PASS" : "FAIL") << "\n";
    }
    return j["ok"].get<bool>() ? 0 : 1;
  });
}

int cmd_config_reference(const Args& args) {
  return run("config-reference", [&] {
    auto options = make_options("config-reference", "Print the Markdown reference of every config key (docs/config.md)");
    auto result = parse(options, args);
    auto ctx = open_context(result);
    char* text = nullptr;
    check(memtx_config_reference(ctx.get(), &text));
    std::cout << take_string(text);
    return 0;
  });
}

int cmd_describe(const Args& args) {
  return run("describe", [&] {
    auto options = make_options("describe", "Build a model from a config and print its description (JSON)");
    add_config_options(options);
    auto result = parse(options, args);
    auto ctx = open_context(result);
    auto cfg = load_config(ctx.get(), result, /*required=*/false);
    memtx_model* raw = nullptr;
    check(memtx_model_create(ctx.get(), cfg.get(), &raw));
    Model model(raw, memtx_model_free);
    char* text = nullptr;
    check(memtx_model_describe(model.get(), &text));
    std::cout << take_string(text) << "\n";
    return 0;
  });
}

int cmd_build_info(const Args& args) {
  return run("build-info", [&] {
    auto options = make_options("build-info", "Print LibTorch, CUDA, BLAS and ABI versions (JSON)");
    parse(options, args);
    char* text = nullptr;
    check(memtx_build_info(&text));
    std::cout << take_string(text) << "\n";
    return 0;
  });
}

int cmd_demo(const Args& args) {
  return run("demo", [&] {
    auto options = make_options("demo", "Build a small model, run a forward pass and print the most likely next tokens");
    add_config_options(options);
    options.add_options()("tokens", "comma-separated token ids", cxxopts::value<std::string>()->default_value("1,2,3,4,5,6,7,8"));
    auto result = parse(options, args);
    auto ctx = open_context(result);
    char* info = nullptr;
    check(memtx_build_info(&info));
    std::cout << "build: " << nlohmann::json::parse(take_string(info)).dump() << "\n";
    auto cfg = load_config(ctx.get(), result, /*required=*/false);
    memtx_model* raw = nullptr;
    check(memtx_model_create(ctx.get(), cfg.get(), &raw));
    Model model(raw, memtx_model_free);
    char* text = nullptr;
    check(memtx_model_describe(model.get(), &text));
    auto desc = nlohmann::json::parse(take_string(text));
    std::cout << "model: " << desc["num_layers"] << " layers x " << desc["hidden_dim"] << " hidden, "
              << desc["parameters"]["total"] << " parameters, variants:";
    for (const auto& l : desc["layers"]) std::cout << " " << l["variant"].get<std::string>();
    std::cout << "\n";
    std::vector<int64_t> tokens;
    std::string list = result["tokens"].as<std::string>();
    for (size_t pos = 0; pos < list.size();) {
      size_t comma = list.find(',', pos);
      tokens.push_back(std::stoll(list.substr(pos, comma - pos)));
      pos = comma == std::string::npos ? list.size() : comma + 1;
    }
    const int64_t vocab = memtx_model_vocab_size(model.get());
    std::vector<float> logits(tokens.size() * vocab);
    check(memtx_forward(model.get(), tokens.data(), 1, static_cast<int64_t>(tokens.size()), logits.data(), logits.size()));
    std::cout << "forward: " << tokens.size() << " tokens -> logits [1, " << tokens.size() << ", " << vocab << "]\n";
    std::cout << "argmax next token per position:";
    for (size_t t = 0; t < tokens.size(); ++t) {
      const float* row = logits.data() + t * vocab;
      std::cout << " " << (std::max_element(row, row + vocab) - row);
    }
    std::cout << "\n";
    return 0;
  });
}

}  // namespace memtx_cli
