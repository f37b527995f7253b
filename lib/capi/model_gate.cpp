// capi/model_gate.cpp: the one-call-at-a-time gate of a memtx_model (model_gate.hpp).
#include "capi/model_gate.hpp"

#include <string>

#include "memtx/error.hpp"

namespace memtx::capi {

namespace {
Error busy(const char* function) {
  return Error(StatusCode::Busy, std::string(function) +
                                     ": memtx_train is running on this model (on another thread); the call was "
                                     "refused and changed nothing (memtx_cancel stops the training)");
}
}  // namespace

ModelGate::Pass ModelGate::enter(Use use, const char* function) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (training_) throw busy(function);
  if (use == Use::Training) {
    training_ = true;
    opened_.wait(lock, [&] { return !in_use_; });
  } else {
    opened_.wait(lock, [&] { return !in_use_ || training_; });
    if (training_) throw busy(function);
  }
  in_use_ = true;
  return Pass(this, use);
}

void ModelGate::leave(Use use) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ = false;
    if (use == Use::Training) training_ = false;
  }
  opened_.notify_all();
}

ModelGate::Pass::~Pass() {
  if (gate_) gate_->leave(use_);
}

}  // namespace memtx::capi
