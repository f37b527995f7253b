// model/grad_checkpoint.cpp: a custom autograd function that recomputes its body in backward (see
// grad_checkpoint.hpp).
#include "model/grad_checkpoint.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <array>
#include <stdexcept>
#include <string>

#include "memtx/torch_compat.hpp"

namespace memtx {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Body = std::function<torch::Tensor(const torch::Tensor&)>;

// The default CPU generator's and (when CUDA is there) the current CUDA device's generator's states, saved in
// forward and restored around the recomputation.
std::vector<torch::Tensor> rng_states() {
  std::vector<torch::Tensor> out{at::detail::getDefaultCPUGenerator().get_state()};
  if (torch::cuda::is_available()) out.push_back(at::globalContext().defaultGenerator(c10::DeviceType::CUDA).get_state());
  return out;
}
void set_rng_states(const std::vector<torch::Tensor>& s) {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  cpu.set_state(s.at(0));
  if (s.size() > 1) {
    at::Generator cuda = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
    cuda.set_state(s[1]);
  }
}

// Autocast as it was during the first run, re-established around the recomputation (backward may run where
// autocast is off), so the recomputed graph has the dtypes of the first one.
class AutocastAs {
 public:
  explicit AutocastAs(const std::array<compat::AutocastState, 2>& wanted)
      : saved_{compat::autocast_state(c10::DeviceType::CPU), compat::autocast_state(c10::DeviceType::CUDA)} {
    apply(wanted);
  }
  ~AutocastAs() { apply(saved_); }
  static std::array<compat::AutocastState, 2> current() {
    return {compat::autocast_state(c10::DeviceType::CPU), compat::autocast_state(c10::DeviceType::CUDA)};
  }

 private:
  static void apply(const std::array<compat::AutocastState, 2>& s) {
    compat::set_autocast(c10::DeviceType::CPU, s[0].enabled, s[0].dtype);
    compat::set_autocast(c10::DeviceType::CUDA, s[1].enabled, s[1].dtype);
  }
  std::array<compat::AutocastState, 2> saved_;
};

std::array<compat::AutocastState, 2> decode_autocast(const c10::IValue& v) {
  const auto list = v.toIntVector();
  return {compat::AutocastState{list[0] != 0, static_cast<c10::ScalarType>(list[1])},
          compat::AutocastState{list[2] != 0, static_cast<c10::ScalarType>(list[3])}};
}

// Records what the recomputation must reproduce: the random state (dropout masks) and autocast of the first run.
void save_first_run(AutogradContext* ctx) {
  ctx->saved_data["rng"] = rng_states();
  const auto autocast = AutocastAs::current();
  ctx->saved_data["autocast"] = std::vector<int64_t>{autocast[0].enabled, static_cast<int64_t>(autocast[0].dtype),
                                                     autocast[1].enabled, static_cast<int64_t>(autocast[1].dtype)};
}

// Runs body with the graph recorded, under the first run's random state and autocast; the current random state
// comes back afterwards.
template <typename Run>
auto replay_first_run(AutogradContext* ctx, Run&& body) {
  const std::vector<torch::Tensor> current_rng = rng_states();
  set_rng_states(ctx->saved_data["rng"].toTensorVector());
  decltype(body()) result;
  {
    torch::AutoGradMode enable(true);
    AutocastAs autocast(decode_autocast(ctx->saved_data["autocast"]));
    result = body();
  }
  set_rng_states(current_rng);
  return result;
}

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const Body* body) {
    ctx->saved_data["body"] = c10::IValue(reinterpret_cast<int64_t>(body));
    save_first_run(ctx);
    ctx->save_for_backward({x});
    torch::NoGradGuard no_grad;
    return (*body)(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const Body* body = reinterpret_cast<const Body*>(ctx->saved_data["body"].toInt());
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    const torch::Tensor y = replay_first_run(ctx, [&] { return (*body)(x); });
    torch::autograd::backward({y}, {grad_outputs[0]});
    return {x.grad(), torch::Tensor()};
  }
};

std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += name + "\n";
  return joined;
}
std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> names;
  for (size_t begin = 0, end; (end = joined.find('\n', begin)) != std::string::npos; begin = end + 1)
    names.push_back(joined.substr(begin, end - begin));
  return names;
}

// The stateful form: several inputs (x and the carried state), several outputs (y and the state after).
struct StatefulCheckpointFunction : public torch::autograd::Function<StatefulCheckpointFunction> {
  static variable_list forward(AutogradContext* ctx, torch::TensorList inputs, const StatefulBody* body,
                               const SegmentCall* call, std::vector<std::string>* output_names) {
    ctx->saved_data["body"] = c10::IValue(reinterpret_cast<int64_t>(body));
    ctx->saved_data["start"] = c10::IValue(call->start_position);
    ctx->saved_data["use_cache"] = c10::IValue(call->use_cache);
    ctx->saved_data["names"] = c10::IValue(join_names(call->state_names));
    save_first_run(ctx);
    ctx->save_for_backward(inputs.vec());
    torch::NoGradGuard no_grad;
    auto outputs = (*body)(inputs.vec(), *call, output_names);
    ctx->saved_data["output_names"] = c10::IValue(join_names(*output_names));
    return outputs;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto* body = reinterpret_cast<const StatefulBody*>(ctx->saved_data["body"].toInt());
    SegmentCall call;
    call.start_position = ctx->saved_data["start"].toInt();
    call.use_cache = ctx->saved_data["use_cache"].toBool();
    call.state_names = split_names(ctx->saved_data["names"].toStringRef());
    std::vector<torch::Tensor> inputs;
    for (const auto& saved : ctx->get_saved_variables()) {
      const bool floating = saved.defined() && saved.is_floating_point();
      inputs.push_back(floating ? saved.detach().requires_grad_(true) : saved);
    }
    std::vector<std::string> output_names;
    const auto outputs = replay_first_run(ctx, [&] { return (*body)(inputs, call, &output_names); });
    if (outputs.size() != grad_outputs.size() || join_names(output_names) != ctx->saved_data["output_names"].toStringRef()) {
      throw std::logic_error("gradient checkpointing: the recomputed segment's outputs differ from the first run's");
    }
    std::vector<torch::Tensor> roots, grads;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (grad_outputs[i].defined() && outputs[i].defined() && outputs[i].requires_grad()) {
        roots.push_back(outputs[i]);
        grads.push_back(grad_outputs[i]);
      }
    }
    if (!roots.empty()) torch::autograd::backward(roots, grads);
    variable_list result;
    for (const auto& input : inputs) result.push_back(input.requires_grad() ? input.grad() : torch::Tensor());
    result.resize(result.size() + 3);  // none for the three non-tensor arguments
    return result;
  }
};

}  // namespace

torch::Tensor checkpointed(const Body& fn, const torch::Tensor& x) { return CheckpointFunction::apply(x, &fn); }

std::vector<torch::Tensor> checkpointed(const StatefulBody& fn, const std::vector<torch::Tensor>& inputs,
                                        const SegmentCall& call, std::vector<std::string>* output_names) {
  return StatefulCheckpointFunction::apply(torch::TensorList(inputs), &fn, &call, output_names);
}

}  // namespace memtx
