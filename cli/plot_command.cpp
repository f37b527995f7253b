// cli/plot_command.cpp: `memtx-cli plot METRICS.jsonl [-o out.svg] [--png]`: reads the metrics file a
// training run writes (JSON Lines; "train" records: step, epoch, loss, lr, ...; "eval" records: step,
// eval_loss, ...; other types are ignored) and draws a loss panel (train loss, eval loss, epoch marks) and a
// learning-rate panel into an SVG, by default loss.svg beside the metrics file; --png also converts it
// with rsvg-convert. For a step written twice (a resumed run) the later record wins.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli_common.hpp"
#include "svg_plot.hpp"

extern char** environ;

namespace memtx_cli {

namespace {

namespace fs = std::filesystem;

struct Metrics {
  std::map<double, double> train_loss;  // step -> loss
  std::map<double, double> lr;          // step -> learning rate
  std::map<double, double> epoch;       // step -> epoch
  std::map<double, double> eval_loss;   // step -> eval loss
  size_t train_records = 0, eval_records = 0;
};

// A numeric field: nullopt when absent or null (a non-finite value is written as null), an error otherwise.
std::optional<double> number_field(const nlohmann::json& record, const char* field, const std::string& where) {
  auto it = record.find(field);
  if (it == record.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw CliError(where + ": \"" + field + "\" must be a number, got " + it->dump());
  return it->get<double>();
}

double required_step(const nlohmann::json& record, const std::string& where, const std::string& type) {
  auto step = number_field(record, "step", where);
  if (!step) throw CliError(where + ": a \"" + type + "\" record needs a numeric \"step\"");
  return *step;
}

Metrics read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("cannot open the metrics file '" + path + "'");
  Metrics m;
  std::string text;
  for (size_t line_no = 1; std::getline(in, text); ++line_no) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw CliError(where + ": not a JSON record (" + e.what() + ")");
    }
    if (!record.is_object()) throw CliError(where + ": expected a JSON object, got " + record.dump());
    auto type_it = record.find("type");
    if (type_it == record.end() || !type_it->is_string())
      throw CliError(where + ": a record needs a \"type\" string (\"train\", \"eval\", ...)");
    const std::string type = type_it->get<std::string>();
    if (type == "train") {
      ++m.train_records;
      const double step = required_step(record, where, type);
      if (auto loss = number_field(record, "loss", where)) m.train_loss[step] = *loss;
      if (auto lr = number_field(record, "lr", where)) m.lr[step] = *lr;
      if (auto epoch = number_field(record, "epoch", where)) m.epoch[step] = *epoch;
    } else if (type == "eval") {
      ++m.eval_records;
      const double step = required_step(record, where, type);
      if (auto loss = number_field(record, "eval_loss", where)) m.eval_loss[step] = *loss;
    }
  }
  if (m.train_records == 0)
    throw CliError(path + ": no train records (lines with \"type\": \"train\"); is this the metrics.jsonl of a training run?");
  return m;
}

std::vector<svg::Point> points(const std::map<double, double>& series) { return {series.begin(), series.end()}; }

// Centred moving average over 2 * half + 1 points (fewer at the ends): unlike an exponential average it
// does not lag behind a falling loss.
std::vector<svg::Point> smoothed(const std::vector<svg::Point>& raw, size_t half) {
  std::vector<double> sum(raw.size() + 1, 0.0);  // prefix sums of the finite values and of their count
  std::vector<size_t> count(raw.size() + 1, 0);
  for (size_t i = 0; i < raw.size(); ++i) {
    const bool finite = std::isfinite(raw[i].second);
    sum[i + 1] = sum[i] + (finite ? raw[i].second : 0.0);
    count[i + 1] = count[i] + (finite ? 1 : 0);
  }
  std::vector<svg::Point> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const size_t begin = i >= half ? i - half : 0, end = std::min(raw.size(), i + half + 1);
    const size_t n = count[end] - count[begin];
    if (n > 0 && std::isfinite(raw[i].second))
      out.emplace_back(raw[i].first, (sum[end] - sum[begin]) / static_cast<double>(n));
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

svg::Figure make_figure(const Metrics& m, const std::string& title) {
  svg::Figure fig;
  fig.title = title;
  const auto train = points(m.train_loss);
  std::string subtitle = std::to_string(m.train_records) + " train records";
  if (!train.empty()) {
    subtitle += ", steps " + number(train.front().first) + "-" + number(train.back().first) + ", final train loss " +
                number(train.back().second);
  }
  if (!m.eval_loss.empty()) {
    auto best = std::min_element(m.eval_loss.begin(), m.eval_loss.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    subtitle += ", best eval loss " + number(best->second) + " (step " + number(best->first) + ")";
  }
  fig.subtitle = subtitle;

  svg::Panel loss;
  loss.title = "Loss";
  loss.x_label = "step";
  loss.y_label = "loss (cross-entropy)";
  loss.height = 400;
  loss.empty_text = "no finite loss values in the file";
  if (train.size() >= 100) {  // noisy: the raw curve light, a smoothed one on top
    loss.series.push_back({"train loss", "#a6c8e6", train, true, false});
    loss.series.push_back({"train loss (smoothed)", "#1f77b4", smoothed(train, std::max<size_t>(2, train.size() / 50)), true, false});
  } else {
    loss.series.push_back({"train loss", "#1f77b4", train, true, false});
  }
  if (!m.eval_loss.empty()) loss.series.push_back({"eval loss", "#ff7f0e", points(m.eval_loss), true, true});
  // Epoch boundaries: the first step of each new epoch (only when there are few enough to read).
  std::vector<svg::VerticalMark> marks;
  double last_epoch = NAN;
  for (const auto& [step, epoch] : m.epoch) {
    if (std::isfinite(last_epoch) && std::floor(epoch) > std::floor(last_epoch))
      marks.push_back({step, "epoch " + number(std::floor(epoch))});
    last_epoch = epoch;
  }
  if (marks.size() <= 20) loss.marks = marks;
  fig.panels.push_back(loss);

  svg::Panel lr;
  lr.title = "Learning rate";
  lr.x_label = "step";
  lr.y_label = "learning rate";
  lr.height = 250;
  lr.y_from_zero = true;
  lr.legend = false;  // one series, named by the panel title
  lr.empty_text = "no learning-rate values (\"lr\") in the file";
  lr.series.push_back({"learning rate", "#2ca02c", points(m.lr), true, false});
  fig.panels.push_back(lr);
  return fig;
}

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t pos = 0; pos <= dirs.size();) {
    size_t colon = dirs.find(':', pos);
    std::string dir = dirs.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return std::nullopt;
}

// Runs `rsvg-convert -o png svg` (no shell: the paths are passed as they are).
void convert_to_png(const std::string& svg_path, const std::string& png_path) {
  auto program = find_on_path("rsvg-convert");
  if (!program)
    throw CliError("--png needs rsvg-convert on PATH (Debian: apt-get install librsvg2-bin); the SVG was written to " + svg_path);
  std::vector<std::string> words = {*program, "-b", "white", "-o", png_path, svg_path};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int err = posix_spawn(&pid, program->c_str(), nullptr, nullptr, argv.data(), environ))
    throw CliError("cannot run " + *program + ": " + std::strerror(err));
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw CliError("rsvg-convert failed to convert " + svg_path + " to " + png_path);
}

}  // namespace

int cmd_plot(const Args& args) {
  return run("plot", [&] {
    auto options = make_options("plot METRICS.jsonl", "Draw the loss and learning-rate curves of a training run's metrics file as SVG");
    options.add_options()("metrics", "metrics file (JSON Lines) written by training", cxxopts::value<std::string>())(
        "o,output", "SVG file to write (default: loss.svg beside the metrics file)", cxxopts::value<std::string>())(
        "png", "also write a PNG beside the SVG (needs rsvg-convert)")(
        "title", "figure title (default: the metrics file's path)", cxxopts::value<std::string>());
    options.parse_positional({"metrics"});
    options.positional_help("METRICS.jsonl");
    auto result = parse(options, args);
    if (!result.count("metrics")) throw CliError("a metrics file is required: memtx-cli plot METRICS.jsonl [-o out.svg]");
    if (!result.unmatched().empty()) throw CliError("unexpected argument '" + result.unmatched().front() + "'");
    const std::string metrics_path = result["metrics"].as<std::string>();
    const Metrics metrics = read_metrics(metrics_path);

    fs::path out = result.count("output") ? fs::path(result["output"].as<std::string>())
                                          : fs::path(metrics_path).parent_path() / "loss.svg";
    const std::string title = result.count("title") ? result["title"].as<std::string>() : "Training curves: " + metrics_path;
    const std::string svg_text = svg::render_svg(make_figure(metrics, title));
    {
      std::ofstream file(out, std::ios::binary);
      if (!(file << svg_text) || !(file.flush())) throw CliError("cannot write " + out.string());
    }
    std::cout << "wrote " << out.string() << " (" << metrics.train_loss.size() << " train points, "
              << metrics.eval_loss.size() << " eval points, " << metrics.lr.size() << " learning rates)\n";
    if (result.count("png")) {
      fs::path png = out;
      png.replace_extension(".png");
      convert_to_png(out.string(), png.string());
      std::cout << "wrote " << png.string() << "\n";
    }
    return 0;
  });
}

}  // namespace memtx_cli
