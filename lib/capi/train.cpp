// capi/train.cpp: memtx_train with its progress callback, polling, cancellation and report (memtx.h).
#include <iostream>
#include <limits>

#include "capi/handles.hpp"
#include "train/trainer.hpp"

using namespace memtx::capi;

namespace {

memtx_train_progress to_c(const memtx::train::TrainProgress& p) {
  memtx_train_progress out{};
  out.event = static_cast<memtx_train_event>(p.event);
  out.step = p.step;
  out.total_steps = p.total_steps;
  out.epoch = p.epoch;
  out.tokens_seen = p.tokens_seen;
  out.loss = p.loss;
  out.learning_rate = p.learning_rate;
  out.grad_norm = p.grad_norm;
  out.tokens_per_second = p.tokens_per_second;
  out.eta_seconds = p.eta_seconds;
  out.eval_loss = p.eval_loss;
  out.elapsed_seconds = p.elapsed_seconds;
  return out;
}

}  // namespace

extern "C" {

memtx_status* memtx_model_set_progress_callback(memtx_model* model, memtx_progress_callback cb, void* user_data) {
  return guarded("memtx_model_set_progress_callback", [&] {
    require(model, "memtx_model_set_progress_callback", "model");
    const auto pass = use_model(*model, "memtx_model_set_progress_callback");
    model->progress_callback = cb;
    model->progress_user_data = user_data;
  });
}

memtx_status* memtx_train(memtx_model* model, const memtx_config* cfg) {
  memtx::train::TrainReport report;
  bool entered = false;  // a call refused at the gate (BUSY) leaves the running training's report alone
  memtx_status* status = guarded("memtx_train", [&] {
    require(model, "memtx_train", "model");
    const auto pass = model->gate.enter(ModelGate::Use::Training, "memtx_train");
    entered = true;
    model->cancel_requested.store(false);
    {
      std::lock_guard<std::mutex> lock(model->progress_mutex);
      model->progress = memtx_train_progress{};
      model->progress.eval_loss = std::numeric_limits<double>::quiet_NaN();
      model->progress.eta_seconds = -1;
      model->train_report = "{}";
    }
    const memtx::Config config = cfg ? cfg->snapshot() : model->model->config();
    config.validate();
    const auto& tokenizer = model_tokenizer(*model);
    memtx::train::TrainHooks hooks;
    hooks.cancel = &model->cancel_requested;
    hooks.log = [model](const std::string& line) {
      if (model->context) model->context->log(2, line);
    };
    hooks.on_progress = [model](const memtx::train::TrainProgress& p) {
      const memtx_train_progress c = to_c(p);
      {
        std::lock_guard<std::mutex> lock(model->progress_mutex);
        model->progress = c;
      }
      return model->progress_callback && model->progress_callback(&c, model->progress_user_data) != 0;
    };
    memtx::train::train(*model->model, config, tokenizer, hooks, report);
    if (report.status == "cancelled")
      throw memtx::Error(memtx::StatusCode::Cancelled, "memtx_train: stopped at step " + std::to_string(report.steps) +
                                                           " on request; checkpoint " + report.last_checkpoint);
  });
  if (entered) {
    // Guarded too: a failure while writing the report becomes the status (when training itself succeeded).
    memtx_status* reported = guarded("memtx_train", [&] {
      std::string json = report.to_json();
      std::lock_guard<std::mutex> lock(model->progress_mutex);
      model->train_report = std::move(json);
    });
    if (!status) return reported;
    memtx_status_free(reported);
  }
  return status;
}

memtx_status* memtx_train_poll(memtx_model* model, memtx_train_progress* out) {
  return guarded("memtx_train_poll", [&] {
    require(model, "memtx_train_poll", "model");
    require(out, "memtx_train_poll", "out");
    std::lock_guard<std::mutex> lock(model->progress_mutex);
    *out = model->progress;
  });
}

void memtx_cancel(memtx_model* model) {
  if (model) model->cancel_requested.store(true);
}

memtx_status* memtx_train_report(memtx_model* model, char** out_json) {
  return guarded("memtx_train_report", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(model, "memtx_train_report", "model");
    require(out_json, "memtx_train_report", "out_json");
    std::lock_guard<std::mutex> lock(model->progress_mutex);
    *out_json = copy_string(model->train_report);
  });
}

}  // extern "C"
