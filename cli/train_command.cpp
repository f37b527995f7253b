// cli/train_command.cpp: `memtx-cli train`: builds a model from a config (file, --set and the seeds' flags such as
// --attention_list causal infini ssm), trains it through memtx_train with a progress bar (plain lines when not a
// terminal), stops cleanly on Ctrl-C (SIGINT: a checkpoint is written first), and prints where everything went.
// An output folder it cannot write is refused before the model is built (output_dir_check.hpp). --init-from
// builds the model from the run's config and takes a folder's weights.
// With --nproc_per_node N it trains nothing itself: it checks the config once and starts N workers (this command
// without the launch options, torchrun's environment; launcher.hpp).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "launcher.hpp"
#include "output_dir_check.hpp"
#include "progress_display.hpp"

namespace memtx_cli {
namespace {

// The model SIGINT cancels. memtx_cancel only stores an atomic flag, so it is safe in a signal handler.
memtx_model* g_interruptible = nullptr;

extern "C" void on_sigint(int) {
  if (g_interruptible) memtx_cancel(g_interruptible);
}

struct CallbackState {
  ProgressDisplay* display = nullptr;
  double last_eval_loss = std::numeric_limits<double>::quiet_NaN();
};

int on_progress(const memtx_train_progress* p, void* user_data) {
  auto* state = static_cast<CallbackState*>(user_data);
  if (p->event == MEMTX_EVENT_STEP || p->event == MEMTX_EVENT_EVAL) {
    state->display->update(p->step, p->total_steps, p->epoch, p->loss, p->learning_rate, p->tokens_per_second,
                           p->eta_seconds, p->eval_loss);
  }
  return 0;
}

void on_log(int, const char* line, void* user_data) {
  static_cast<CallbackState*>(user_data)->display->print(line);
}

std::string text_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  return j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty() ? j[key].get<std::string>()
                                                                                     : fallback;
}

// The launch --nproc_per_node and --master_port ask for (nproc 0: none); CliError for one the launcher refuses.
std::pair<int, LaunchOptions> launch_request(const cxxopts::ParseResult& result) {
  if (!result.count("nproc_per_node")) {
    if (result.count("master_port"))
      throw CliError("--master_port goes with --nproc_per_node (under torchrun, it sets MASTER_PORT)");
    return {0, {}};
  }
  LaunchOptions launch;
  const int nproc = result["nproc_per_node"].as<int>();
  if (result.count("master_port")) launch.master_port = result["master_port"].as<int>();
  if (const std::string why = launch_refusal(nproc, launch.master_port, process_environment()); !why.empty())
    throw CliError(why);
  return {nproc, launch};
}

// --init-from: the folder is loaded once, which checks it (manifest, finite weights), and freed; the model
// trained is built from the run's config, which must describe the same structure, and takes the folder's
// weights. So the run's model keys that change no weight (model.dropout, an infini layer's write_sparsity or
// logging) apply to the continued training rather than being ignored.
memtx_model* model_from_folder_weights(memtx_context* ctx, const memtx_config* cfg, const std::string& dir) {
  memtx_model* loaded = nullptr;
  check(memtx_model_load(ctx, dir.c_str(), &loaded));
  memtx_model_free(loaded);
  memtx_model* raw = nullptr;
  check(memtx_model_create(ctx, cfg, &raw));
  Model model(raw, memtx_model_free);
  memtx_status* status = memtx_model_load_weights(model.get(), (std::filesystem::path(dir) / "model.safetensors").string().c_str());
  if (memtx_status_get_code(status) != MEMTX_OK) {
    const std::string message = memtx_status_message(status);
    memtx_status_free(status);
    throw CliError("--init-from " + dir + ": its weights do not fit the model the run's config describes (give the " +
                   "config the folder was trained with, changing only keys that add or reshape no weight): " + message);
  }
  memtx_status_free(status);
  return model.release();
}

// training.num_gpus > 1 is the number of processes per node: memtx-cli starts them unless it is itself a
// worker (WORLD_SIZE set: torchrun or a launch of ours decides). 0 when this process trains alone.
int workers_from_config(const memtx_config* cfg) {
  char* text = nullptr;
  check(memtx_config_get(cfg, "training.num_gpus", &text));
  const int per_node = std::stoi(take_string(text));
  if (per_node <= 1 || std::getenv("WORLD_SIZE")) return 0;
  if (const std::string why = launch_refusal(per_node, 0, process_environment()); !why.empty())
    throw CliError("training.num_gpus: " + why);
  return per_node;
}

}  // namespace

int cmd_train(const Args& args) {
  return run("train", [&] {
    auto options = make_options("train", "Train a model: a config file, --set overrides and any config key as a flag "
                                         "(--attention_list causal infini ssm, --max_steps 100, --n_kv_group 2, ...)");
    add_config_options(options);
    options.add_options()("resume", "resume from a checkpoint folder, or 'latest' in output_dir",
                          cxxopts::value<std::string>())(
        "init-from", "start from the weights of a memtx model folder or checkpoint (weights only: a fresh optimizer, "
                     "schedule and step count; the config must describe the same structure, and its other model keys, "
                     "such as model.dropout or infini_attention.write_sparsity, apply)",
        cxxopts::value<std::string>())("quiet", "no progress output (the summary only)")(
        "json", "print the final report as JSON");
    options.add_options("distributed")(
        "nproc_per_node", "start N local worker processes that train together, as `torchrun --nproc_per_node N` "
                          "would: each runs this command without --nproc_per_node, with RANK, LOCAL_RANK, WORLD_SIZE, "
                          "MASTER_ADDR=127.0.0.1 and MASTER_PORT set (1..64; under torchrun, leave it out)",
        cxxopts::value<int>())("master_port", "the workers' MASTER_PORT with --nproc_per_node (default: a free port)",
                               cxxopts::value<int>());
    auto result = parse(options, args);
    if (result.count("init-from") && result.count("resume"))
      throw CliError("give either --resume (a whole run) or --init-from (weights only), not both");
    auto [nproc, launch] = launch_request(result);
    auto ctx = open_context(result);
    auto cfg = load_config(ctx.get(), result, /*required=*/false);
    if (result.count("resume"))
      check(memtx_config_set(cfg.get(), "training.resume_from_checkpoint", result["resume"].as<std::string>().c_str()));
    check(memtx_config_validate(cfg.get()));
    if (nproc == 0) nproc = workers_from_config(cfg.get());
    if (nproc > 0) {  // the workers train; the config is checked above, so a mistake is reported once, not per worker
      cfg.reset();
      ctx.reset();
      return launch_local_workers(without_launch_options(args), nproc, launch);
    }

    check_output_dir_writable(cfg.get());  // before a model is built or loaded: that can take minutes

    memtx_model* raw = nullptr;
    if (result.count("init-from")) {
      raw = model_from_folder_weights(ctx.get(), cfg.get(), result["init-from"].as<std::string>());
    } else {
      check(memtx_model_create(ctx.get(), cfg.get(), &raw));
    }
    Model model(raw, memtx_model_free);

    ProgressDisplay display = ProgressDisplay::on_stderr();
    CallbackState state{&display};
    const bool quiet = result.count("quiet") > 0;
    if (!quiet) {
      memtx_context_set_log_level(ctx.get(), 2);
      memtx_context_set_log_callback(ctx.get(), on_log, &state);
      check(memtx_model_set_progress_callback(model.get(), on_progress, &state));
    }
    g_interruptible = model.get();
    auto previous = std::signal(SIGINT, on_sigint);
    memtx_status* status = memtx_train(model.get(), cfg.get());
    std::signal(SIGINT, previous);
    g_interruptible = nullptr;
    if (!quiet) display.finish();
    memtx_context_set_log_callback(ctx.get(), nullptr, nullptr);

    char* text = nullptr;
    check(memtx_train_report(model.get(), &text));
    const auto report = nlohmann::json::parse(take_string(text));
    const memtx_status_code code = memtx_status_get_code(status);
    const std::string message = memtx_status_message(status);
    memtx_status_free(status);
    if (code != MEMTX_OK && code != MEMTX_CANCELLED) throw CliError(std::string("[") + memtx_status_code_name(code) + "] " + message);

    if (result.count("json")) {
      std::cout << report.dump(2) << "\n";
    } else {
      std::cout << "status:          " << report["status"].get<std::string>() << " after " << report["steps"] << " steps ("
                << report["epochs"] << " epochs, " << report["seconds"].get<double>() << " s, "
                << static_cast<int64_t>(report["tokens_per_second"].get<double>()) << " tokens/s on "
                << report["device"].get<std::string>() << ", " << report["precision"].get<std::string>() << ")\n";
      if (report.value("world_size", 1) > 1)
        std::cout << "process:         rank " << report["rank"] << " of " << report["world_size"] << ", optimizer state "
                  << report["optimizer_state_bytes"] << " bytes\n";
      std::cout << "final loss:      " << report["final_loss"].dump() << "\n";
      std::cout << "best eval loss:  " << report["best_eval_loss"].dump() << "  " << text_or(report, "best_checkpoint", "")
                << "\n";
      std::cout << "last checkpoint: " << text_or(report, "last_checkpoint", "none") << "\n";
      std::cout << "final model:     " << text_or(report, "final_model", "none (stopped early)") << "\n";
      std::cout << "metrics:         " << text_or(report, "metrics_file", "none")
                << "  (draw it: memtx-cli plot " << text_or(report, "metrics_file", "METRICS") << ")\n";
    }
    return code == MEMTX_CANCELLED ? 130 : 0;
  });
}

}  // namespace memtx_cli
