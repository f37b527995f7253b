// capi/model_gate.hpp: who may use a memtx_model now. Calls that use a model run one at a time: a second caller
// waits until the first returns (so every call sees the model as a single thread would). memtx_train is the
// exception: it may hold a model for hours, so while it runs every other call that needs the model is refused at
// once with MEMTX_BUSY (nothing changed) instead of waiting. memtx_cancel, memtx_train_poll and memtx_train_report
// never pass the gate.
#pragma once
#include <condition_variable>
#include <mutex>

namespace memtx::capi {

class ModelGate {
 public:
  enum class Use { Call, Training };

  // Held for the length of one C API call; leaving the call (return or exception) opens the gate.
  class Pass {
   public:
    Pass(Pass&& other) noexcept : gate_(other.gate_), use_(other.use_) { other.gate_ = nullptr; }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    Pass& operator=(Pass&&) = delete;
    ~Pass();

   private:
    friend class ModelGate;
    Pass(ModelGate* gate, Use use) : gate_(gate), use_(use) {}
    ModelGate* gate_;
    Use use_;
  };

  // Waits for the calls before it; throws Error(Busy) naming function while memtx_train runs on the model (or,
  // for Use::Training, when another memtx_train already does).
  Pass enter(Use use, const char* function);

 private:
  void leave(Use use) noexcept;

  std::mutex mutex_;
  std::condition_variable opened_;
  bool in_use_ = false;
  bool training_ = false;  // set from the moment memtx_train asks, so later callers are refused, not queued
};

}  // namespace memtx::capi
