// cli/passkey_command.cpp: `memtx-cli passkey`: the passkey retrieval evaluation (memtx_passkey) over a grid
// of prompt lengths x needle depths, one memtx_passkey call per cell so each cell's result is printed as it
// finishes (trial t has the same key in every cell, so the split changes nothing). Prints a table per cell
// and the accuracy grid; --json writes the whole report (memtx_passkey's format, all cells), --svg a heat map
// (heatmap_svg.hpp). Lists take several words: --lengths 256 1024 4096 --depths 0 0.25 0.5 0.75 1.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "peak_memory.hpp"
#include "heatmap_svg.hpp"

namespace memtx_cli {
namespace {

// "--name a b c" and "--name a,b" become "--name=a" "--name=b" "--name=c" for the given list options.
Args expand_lists(const Args& in, const std::vector<std::string>& names) {
  Args out;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& a = in[i];
    std::string name, first;
    bool inline_value = false;
    for (const auto& n : names) {
      if (a == "--" + n) name = n;
      if (a.rfind("--" + n + "=", 0) == 0) name = n, first = a.substr(n.size() + 3), inline_value = true;
    }
    if (name.empty()) {
      out.push_back(a);
      continue;
    }
    std::vector<std::string> words;
    if (inline_value) words.push_back(first);
    else
      while (i + 1 < in.size() && in[i + 1].rfind("-", 0) != 0) words.push_back(in[++i]);
    if (words.empty()) throw CliError("--" + name + " needs at least one value");
    for (const auto& w : words) {
      size_t start = 0;
      while (start <= w.size()) {
        const size_t comma = w.find(',', start);
        const std::string item = w.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) out.push_back("--" + name + "=" + item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
  return out;
}

std::string depth_text(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

std::string percent(double v) { return svg::heat_text(v); }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  if (!(file << text) || !file.flush()) throw CliError("cannot write " + path);
}

}  // namespace

int cmd_passkey(const Args& args_in) {
  return run("passkey", [&] {
    auto options = make_options(
        "passkey", "Passkey retrieval accuracy per (prompt length, needle depth) cell: the prompt is streamed through "
                   "the model with its state, the key decoded greedily");
    options.add_options()("model", "a memtx model folder or training checkpoint", cxxopts::value<std::string>())(
        "hf", "a Hugging Face model folder", cxxopts::value<std::string>());
    add_config_options(options);
    options.add_options()("lengths", "prompt lengths in tokens (several words: --lengths 256 1024 4096)",
                          cxxopts::value<std::vector<int64_t>>())(
        "depths", "needle depths in [0, 1] (0 = first tokens, 1 = before the question)",
        cxxopts::value<std::vector<double>>())(
        "trials", "prompts per cell", cxxopts::value<int64_t>()->default_value("10"))(
        "digits", "pass key digits (default: those of the model's synthetic:passkey training data, else 5)",
        cxxopts::value<int64_t>())(
        "seed", "seed of the pass keys", cxxopts::value<uint64_t>()->default_value("0"))(
        "chunk_tokens", "prompt tokens per forward; 0 = the segment length (or 512)",
        cxxopts::value<int64_t>()->default_value("0"))(
        "batch_size", "trials run together", cxxopts::value<int64_t>()->default_value("16"))(
        "json", "write the JSON report to this file", cxxopts::value<std::string>())(
        "svg", "write the heat map (length x depth) to this SVG file", cxxopts::value<std::string>())(
        "title", "heat map title", cxxopts::value<std::string>());
    auto result = parse(options, expand_lists(args_in, {"lengths", "depths"}));
    const std::vector<int64_t> lengths =
        result.count("lengths") ? result["lengths"].as<std::vector<int64_t>>() : std::vector<int64_t>{256, 1024, 4096};
    const std::vector<double> depths = result.count("depths") ? result["depths"].as<std::vector<double>>()
                                                              : std::vector<double>{0, 0.25, 0.5, 0.75, 1};
    auto ctx = open_context(result);
    if ((result.count("model") || result.count("hf")) &&
        (result.count("set") || result.count("config-file") || result.count("config")))
      throw CliError("--config, --set and config flags describe a fresh model; a --model or --hf folder keeps its own config");
    auto model = open_model(ctx.get(), result);
    nlohmann::json base = {{"trials", result["trials"].as<int64_t>()},
                           {"seed", result["seed"].as<uint64_t>()},
                           {"chunk_tokens", result["chunk_tokens"].as<int64_t>()},
                           {"batch_size", result["batch_size"].as<int64_t>()}};
    if (result.count("digits")) base["digits"] = result["digits"].as<int64_t>();
    for (double d : depths)
      if (!(d >= 0.0 && d <= 1.0)) throw CliError("--depths: " + depth_text(d) + " is outside [0, 1]");
    nlohmann::json report;
    nlohmann::json cells = nlohmann::json::array();
    std::vector<std::vector<double>> grid(depths.size(), std::vector<double>(lengths.size(), NAN));
    int64_t correct = 0, trials = 0;
    double seconds = 0;
    std::cout << std::fixed;
    nlohmann::json peaks = nlohmann::json::array();
    for (size_t li = 0; li < lengths.size(); ++li) {
      const bool peak_reset = reset_peak_rss();
      for (size_t di = 0; di < depths.size(); ++di) {
        nlohmann::json o = base;
        o["lengths"] = {lengths[li]};
        o["depths"] = {depths[di]};
        char* raw = nullptr;
        check(memtx_passkey(model.get(), o.dump().c_str(), &raw));
        auto part = nlohmann::json::parse(take_string(raw));
        if (li == 0 && di == 0) {
          report = part;
          std::cout << "passkey: " << lengths.size() << " lengths x " << depths.size() << " depths, "
                    << part["trials"] << " trials per cell, " << part["digits"] << "-digit keys; segment length "
                    << part["segment_length"] << ", " << part["chunk_tokens"] << " tokens per forward\n"
                    << "  length   depth  accuracy  digits  answer log-lik  s/trial  first needle token\n";
        }
        const auto& cell = part["cells"].at(0);
        grid[di][li] = cell["accuracy"].get<double>();
        correct += cell["correct"].get<int64_t>();
        trials += cell["trials"].get<int64_t>();
        seconds += part["seconds"].get<double>();
        auto cell_out = cell;
        cell_out["seconds"] = part["seconds"];
        cell_out["seconds_per_trial"] = part["seconds"].get<double>() / std::max<int64_t>(1, cell["trials"].get<int64_t>());
        std::cout << std::setw(8) << cell["length"].get<int64_t>() << std::setw(8) << std::setprecision(2)
                  << cell["depth"].get<double>() << std::setw(10) << percent(cell["accuracy"].get<double>())
                  << std::setw(8) << percent(cell["digit_accuracy"].get<double>()) << std::setw(16)
                  << std::setprecision(3) << cell["mean_log_likelihood"].get<double>() << std::setw(9)
                  << std::setprecision(2) << cell_out["seconds_per_trial"].get<double>() << "  "
                  << cell["first_needle_begin"].get<int64_t>();
        if (!cell["first_needle_segment"].is_null()) std::cout << " (segment " << cell["first_needle_segment"] << ")";
        std::cout << std::endl;
        cells.push_back(cell_out);
      }
      // The process's peak while this length ran (since the start when the kernel keeps no resettable peak).
      const int64_t peak = peak_rss_bytes();
      peaks.push_back({{"length", lengths[li]}, {"peak_rss_bytes", peak}, {"since_start", !peak_reset}});
      if (peak > 0)
        std::cout << "  peak RSS at length " << lengths[li] << ": " << std::setprecision(1) << peak / 1048576.0
                  << " MiB" << (peak_reset ? "" : " (peak of the process so far)") << std::endl;
    }
    const double accuracy = trials > 0 ? static_cast<double>(correct) / static_cast<double>(trials) : 0.0;
    report["lengths"] = lengths;
    report["depths"] = depths;
    report["cells"] = cells;
    report["peak_rss"] = peaks;
    report["accuracy"] = accuracy;
    report["seconds"] = seconds;

    std::cout << "\naccuracy (rows: depth, columns: length)\n" << std::setw(8) << "depth";
    for (int64_t L : lengths) std::cout << std::setw(8) << L;
    std::cout << "\n";
    for (size_t di = 0; di < depths.size(); ++di) {
      std::cout << std::setw(8) << depth_text(depths[di]);
      for (size_t li = 0; li < lengths.size(); ++li) std::cout << std::setw(8) << percent(grid[di][li]);
      std::cout << "\n";
    }
    std::cout << "overall " << percent(accuracy) << " (" << correct << "/" << trials << "), " << std::setprecision(1)
              << seconds << " s\n";

    if (result.count("json")) {
      const std::string path = result["json"].as<std::string>();
      write_file(path, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      std::cout << "wrote " << path << "\n";
    }
    if (result.count("svg")) {
      svg::Heatmap h;
      const std::string source = result.count("model") ? result["model"].as<std::string>()
                                 : result.count("hf")  ? result["hf"].as<std::string>()
                                                       : "a fresh model";
      h.title = result.count("title") ? result["title"].as<std::string>() : "Passkey retrieval: " + source;
      h.subtitle = std::to_string(report["trials"].get<int64_t>()) + " trials per cell, " +
                   std::to_string(report["digits"].get<int64_t>()) + "-digit keys, segment length " +
                   std::to_string(report["segment_length"].get<int64_t>()) + "; overall " + percent(accuracy) + " (" +
                   std::to_string(correct) + "/" + std::to_string(trials) + ")";
      h.x_label = "prompt length (tokens)";
      h.y_label = "needle depth (0 = start, 1 = end)";
      for (int64_t L : lengths) h.columns.push_back(std::to_string(L));
      for (double d : depths) h.rows.push_back(depth_text(d));
      h.values = grid;
      const std::string path = result["svg"].as<std::string>();
      write_file(path, svg::render_heatmap_svg(h));
      std::cout << "wrote " << path << "\n";
    }
    return 0;
  });
}

}  // namespace memtx_cli
