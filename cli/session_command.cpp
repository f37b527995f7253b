// cli/session_command.cpp: `memtx-cli session`: a streaming session over one model, written against the
// public C API only (memtx_session_*).
//   interactive (stdin, line by line): plain text is fed (the line without its newline, tokenized on its own);
//     /generate N [--temperature T] [--top_k K] [--top_p P] [--min_p M] [--repetition_penalty R] [--max_time S]
//       [--seed S] [--ignore_eos]   prints a continuation as it is made, which joins the stream;  /state  prints
//       position and state bytes;  /reset;  /help;  /quit.
//   --chat: each line is a user message answered by the model (cli/chat_session.hpp).
//     A failed line prints "error: ..." on stderr and the session goes on; the exit code is then 1.
//   --file PATH --piece N: tokenizes the file and feeds it N tokens at a time, printing after each piece the
//     position, the state's bytes, the piece's mean next-token loss and the running mean, then a summary.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "chat_session.hpp"
#include "cli_common.hpp"

namespace memtx_cli {
namespace {

using Session = std::unique_ptr<memtx_session, decltype(&memtx_session_free)>;

// The model named by --model, --hf or (a fresh one) --config/--config-file with --set and config flags.
Model open_session_model(memtx_context* ctx, const cxxopts::ParseResult& result) {
  const bool folder = result.count("model") > 0, hf = result.count("hf") > 0;
  const bool config = result.count("config-file") > 0 || result.count("config") > 0;
  if (folder + hf + config > 1) throw CliError("give one of --model, --hf and --config");
  if ((folder || hf) && result.count("set"))
    throw CliError("--set and config flags describe a fresh model; a --model or --hf folder keeps its own config");
  memtx_model* raw = nullptr;
  if (folder) {
    check(memtx_model_load(ctx, result["model"].as<std::string>().c_str(), &raw));
  } else if (hf) {
    check(memtx_model_load_hf(ctx, result["hf"].as<std::string>().c_str(), &raw));
  } else if (config) {
    auto cfg = load_config(ctx, result, /*required=*/true);
    check(memtx_model_create(ctx, cfg.get(), &raw));
  } else {
    throw CliError("a model is required: --model DIR, --hf DIR or --config FILE");
  }
  return Model(raw, memtx_model_free);
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

template <typename T>
T number(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  T value{};
  if (!(in >> value) || !in.eof()) throw CliError(what + " expects a number, got '" + text + "'");
  return value;
}

// "/generate N [--temperature T] [--top_k K] [--top_p P] [--min_p M] [--repetition_penalty R] [--max_time S]
// [--seed S] [--ignore_eos]" (also --flag=value).
memtx_generate_options generate_command_options(const std::vector<std::string>& words) {
  if (words.size() < 2) throw CliError("/generate needs the number of tokens: /generate N [--temperature T ...]");
  memtx_generate_options o = memtx_generate_default_options();
  o.max_new_tokens = number<int64_t>(words[1], "/generate N");
  if (o.max_new_tokens < 0) throw CliError("/generate N must be >= 0, got " + words[1]);
  for (size_t i = 2; i < words.size(); ++i) {
    std::string flag = words[i], value;
    const auto eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--ignore_eos") {
      o.stop_at_eos = 0;
      continue;
    }
    if (flag != "--temperature" && flag != "--top_k" && flag != "--top_p" && flag != "--seed" && flag != "--min_p" &&
        flag != "--repetition_penalty" && flag != "--max_time")
      throw CliError("/generate: unknown option '" + words[i] +
                     "' (options: --temperature T, --top_k K, --top_p P, --min_p M, --repetition_penalty R, "
                     "--max_time S, --seed S, --ignore_eos)");
    if (eq == std::string::npos) {
      if (i + 1 >= words.size()) throw CliError("/generate: " + flag + " expects a value");
      value = words[++i];
    }
    if (flag == "--temperature") o.temperature = number<float>(value, flag);
    else if (flag == "--top_k") o.top_k = number<int64_t>(value, flag);
    else if (flag == "--top_p") o.top_p = number<float>(value, flag);
    else if (flag == "--min_p") o.min_p = number<float>(value, flag);
    else if (flag == "--repetition_penalty") o.repetition_penalty = number<float>(value, flag);
    else if (flag == "--max_time") o.max_time = number<double>(value, flag);
    else o.seed = number<uint64_t>(value, flag);
  }
  return o;
}

void print_state(memtx_session* session) {
  std::cout << "position " << memtx_session_position(session) << ", state bytes "
            << memtx_session_state_bytes(session) << std::endl;
}

const char* const kInteractiveHelp =
    "text lines are fed to the session; commands:\n"
    "  /generate N [--temperature T] [--top_k K] [--top_p P] [--min_p M] [--repetition_penalty R] [--max_time S]\n"
    "            [--seed S] [--ignore_eos]   continue the stream (printed as it is made)\n"
    "  /state    position and state bytes\n"
    "  /reset    start an empty stream\n"
    "  /help     this text\n"
    "  /quit     leave (as does end of input)\n";

// One line of the interactive loop; returns false on /quit.
bool handle_line(memtx_session* session, const std::string& line) {
  if (line.empty() || line[0] != '/') {
    if (line.empty()) return true;
    const int64_t before = memtx_session_position(session);
    check(memtx_session_feed_text_n(session, line.data(), line.size(), nullptr, 0));  // NUL bytes included
    std::cout << "fed " << memtx_session_position(session) - before << " tokens, position "
              << memtx_session_position(session) << std::endl;
    return true;
  }
  const auto words = words_of(line);
  const std::string& command = words.at(0);
  if (command == "/quit" || command == "/exit") return false;
  if (command == "/help") {
    std::cout << kInteractiveHelp << std::flush;
  } else if (command == "/state") {
    print_state(session);
  } else if (command == "/reset") {
    check(memtx_session_reset(session));
    std::cout << "reset, position 0" << std::endl;
  } else if (command == "/generate") {
    memtx_generate_options o = generate_command_options(words);
    o.on_token = print_text_piece;  // the continuation appears as it is made
    char* raw = nullptr;
    size_t length = 0;
    check(memtx_session_generate_text_n(session, &o, &raw, &length));
    take_string(raw, length);  // already printed piece by piece
    std::cout << std::endl;
  } else {
    throw CliError("unknown command '" + command + "' (/generate N, /state, /reset, /help, /quit)");
  }
  return true;
}

int interactive(memtx_session* session) {
  int status = 0;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    try {
      if (!handle_line(session, line)) break;
    } catch (const CliError& e) {
      std::cerr << "error: " << e.what() << std::endl;
      status = 1;
    }
  }
  return status;
}

int stream_file(memtx_model* model, memtx_session* session, const std::string& path, int64_t piece) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("cannot read the file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  size_t count = 0;  // the whole file, NUL bytes included
  check(memtx_tokenize_n(model, text.data(), text.size(), nullptr, 0, &count));
  std::vector<int64_t> ids(count);
  if (count > 0) check(memtx_tokenize_n(model, text.data(), text.size(), ids.data(), ids.size(), &count));
  if (count < 2) throw CliError("the file '" + path + "' holds " + std::to_string(count) +
                                " tokens; a next-token loss needs at least 2");
  double total = 0.0;
  size_t predicted = 0;
  std::cout << std::fixed;
  for (size_t start = 0; start < count; start += static_cast<size_t>(piece)) {
    const size_t n = std::min(count - start, static_cast<size_t>(piece));
    double piece_loss = 0.0;
    size_t piece_predicted = 0;
    check(memtx_session_feed_loss(session, ids.data() + start, n, &piece_loss, &piece_predicted));
    total += piece_loss;
    predicted += piece_predicted;
    std::cout << "position " << memtx_session_position(session) << " state_bytes "
              << memtx_session_state_bytes(session) << " piece_loss " << std::setprecision(6)
              << (piece_predicted ? piece_loss / static_cast<double>(piece_predicted) : NAN) << " mean_loss "
              << total / static_cast<double>(std::max<size_t>(predicted, 1)) << "\n";
  }
  const double mean = total / static_cast<double>(predicted);
  std::cout << "tokens " << count << " predicted " << predicted << " mean_loss " << std::setprecision(6) << mean
            << " perplexity " << std::setprecision(4) << std::exp(mean) << std::endl;
  return 0;
}

ChatSettings chat_settings(const cxxopts::ParseResult& result) {
  ChatSettings s;
  s.options = memtx_generate_default_options();
  s.options.max_new_tokens = result["max_new_tokens"].as<int64_t>();
  if (s.options.max_new_tokens < 0) throw CliError("--max_new_tokens must be >= 0");
  s.options.temperature = result["temperature"].as<float>();
  s.options.top_k = result["top_k"].as<int64_t>();
  s.options.top_p = result["top_p"].as<float>();
  s.options.min_p = result["min_p"].as<float>();
  s.options.repetition_penalty = result["repetition_penalty"].as<float>();
  s.options.max_time = result["max_time"].as<double>();
  s.options.seed = result["seed"].as<uint64_t>();
  if (result.count("system")) s.system = result["system"].as<std::string>();
  return s;
}

}  // namespace

int cmd_session(const Args& args) {
  return run("session", [&] {
    auto options = make_options(
        "session",
        "A streaming session: feed text from stdin line by line (/generate N, /state, /reset, /help), chat with the "
        "model (--chat), or feed a whole file in pieces (--file PATH --piece N) with the state's size and the "
        "next-token loss as it goes");
    options.add_options()("model", "a memtx model folder or training checkpoint (config.yaml + model.safetensors)",
                          cxxopts::value<std::string>())(
        "hf", "a Hugging Face model folder (config.json + safetensors)", cxxopts::value<std::string>())(
        "file", "feed this file (tokenized whole) instead of reading stdin", cxxopts::value<std::string>())(
        "piece", "tokens per fed piece with --file", cxxopts::value<int64_t>()->default_value("512"))(
        "chat", "chat: each stdin line is a user message, answered in the model's chat format (its tokenizer "
                "folder's template when memtx knows its family, else ChatML)")(
        "system", "with --chat: a system message opening the conversation", cxxopts::value<std::string>())(
        "max_new_tokens", "with --chat: most tokens of a reply", cxxopts::value<int64_t>()->default_value("256"))(
        "temperature", "with --chat: sampling temperature; 0 = greedy", cxxopts::value<float>()->default_value("1.0"))(
        "top_k", "with --chat: keep the k most likely tokens; 0 = off", cxxopts::value<int64_t>()->default_value("0"))(
        "top_p", "with --chat: nucleus filter; 1 = off", cxxopts::value<float>()->default_value("1.0"))(
        "min_p", "with --chat: min-p filter; 0 = off", cxxopts::value<float>()->default_value("0"))(
        "repetition_penalty", "with --chat: repetition penalty; 1 = off",
        cxxopts::value<float>()->default_value("1.0"))(
        "max_time", "with --chat: seconds per reply; 0 = no limit", cxxopts::value<double>()->default_value("0"))(
        "seed", "with --chat: sampling seed", cxxopts::value<uint64_t>()->default_value("0"));
    add_config_options(options);
    auto result = parse(options, args);
    const int64_t piece = result["piece"].as<int64_t>();
    if (piece < 1) throw CliError("--piece must be >= 1, got " + std::to_string(piece));
    if (result.count("piece") && !result.count("file")) throw CliError("--piece goes with --file PATH");
    if (result.count("chat") && result.count("file")) throw CliError("--chat reads stdin: it does not go with --file");
    for (const char* flag : {"system", "max_new_tokens", "temperature", "top_k", "top_p", "min_p",
                             "repetition_penalty", "max_time", "seed"})
      if (result.count(flag) && !result.count("chat")) throw CliError(std::string("--") + flag + " goes with --chat");
    auto ctx = open_context(result);
    auto model = open_session_model(ctx.get(), result);
    memtx_session* raw = nullptr;
    check(memtx_session_create(model.get(), &raw));
    Session session(raw, memtx_session_free);  // declared after the model: freed first
    if (result.count("file")) return stream_file(model.get(), session.get(), result["file"].as<std::string>(), piece);
    if (result.count("chat")) return chat(model.get(), session.get(), chat_settings(result));
    return interactive(session.get());
  });
}

}  // namespace memtx_cli
