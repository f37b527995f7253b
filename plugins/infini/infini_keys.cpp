// infini/infini_keys.cpp: the keys of Infini-attention: truncated back-propagation, the memory switch and its
// update rule, the gate's initialisation, activation and learning rate, and the per-layer logging.
#include "infini/infini_keys.hpp"

#include "common/qk_norm_keys.hpp"

namespace memtx::infini {

VariantKeys infini_keys() {
  using VT = ValueType;
  VariantKeys keys;
  keys.options = {
      Option("infini_attention.detach_every", VT::Int, 0).min(0).max(1 << 24).by("infini")
          .doc("Truncated back-propagation through the carried state: detach every layer's state after this many "
               "segments (1: each segment trains on its own, memory carried forward without gradient); 0 "
               "back-propagates through all segments of a training sequence."),
      Option("infini_attention.local_segments", VT::Int, 1).min(1).max(64).by("infini")
          .doc("How many segments the local softmax attention spans: 1 (the paper) attends within the current "
               "segment only; n > 1 also attends to the last n - 1 completed segments, whose keys and values the "
               "state keeps ((n - 1) * segment_length tokens, so memory stays constant however long the input). A "
               "span that a segment boundary cuts is then still seen whole by the tokens after the cut. Every "
               "completed segment enters the compressive memory as before."),
      Option("infini_attention.turn_on_memory", VT::Bool, true).by("infini")
          .doc("Use the compressive memory; false makes an infini layer plain causal attention within each segment "
               "(a control)."),
      Option("infini_attention.memory_update", VT::String, "linear").choices({"linear", "delta"}).by("infini")
          .doc("How a completed segment is written into the compressive memory: linear (M += sigma(K)^T V) or delta "
               "(M += sigma(K)^T (V - sigma(K) M / (sigma(K) z + eps)): only what the memory does not already return; "
               "storing the same keys and values twice leaves M unchanged)."),
      Option("infini_attention.write_gate", VT::Bool, false).by("infini")
          .doc("Learn a per-token, per-kv-head write weight w = hard_sigmoid(x W_w + b_w) in [0, 1] that scales what "
               "each token writes into the memory (M += (w sigma(K))^T V, z += w sigma(K)). Tokens the model learns "
               "to skip write exactly nothing, so filler leaves the memory as it was however long the input is "
               "(the paper's layer has no such gate: false)."),
      Option("infini_attention.write_sparsity", VT::Float, 0.0).min(0).by("infini")
          .doc("Weight of an L1 penalty on the write weights, added to the training loss: write_sparsity times the "
               "mean over the tokens and kv heads of each layer of relu(u / 6 + 1/2), u = x W_w + b_w (w without "
               "its upper clamp, so tokens that write fully feel it too; needs write_gate). Tokens it pushes below "
               "the ramp write exactly nothing, so the memory after a needle stays the same through any amount of "
               "such filler (configs/passkey_infini_5digit.yaml). 0: no penalty."),
      Option("infini_attention.balance_init_type", VT::String, "zeros")
          .choices({"zeros", "ones", "normal", "closed"}).by("infini")
          .doc("Initial value of each head's gate parameter: zeros (an even 0.5/0.5 mix of memory and local "
               "attention), ones, normal (random), or closed (the gate shut: g = 0 for clamp and hard_sigmoid, "
               "6e-6 for orig_sigmoid, so the layer starts as local attention within its segment). Unset over a "
               "pretrained base (model.base_model_name), closed: the converted layers start as the base's "
               "attention; to train them to use the memory, set zeros (a closed orig_sigmoid gate passes almost "
               "no gradient to the memory path: configs/passkey_infini_pretrained.yaml)."),
      Option("infini_attention.balance_act_type", VT::String, "orig_sigmoid")
          .choices({"orig_sigmoid", "hard_sigmoid", "clamp"}).by("infini")
          .doc("Gate function of the memory/local mix: orig_sigmoid (logistic), hard_sigmoid (piecewise linear), or "
               "clamp (the parameter clamped to [0, 1])."),
      Option("infini_attention.balance_factor_lr", VT::Float, 0.001).min(0).by("infini")
          .doc("Learning rate of the gate parameters, which get no weight decay."),
      Option("infini_attention.logging", VT::Bool, false).by("infini")
          .doc("Record per-head gate values, memory norms and (with write_gate) the mean write weight and the "
               "share of tokens that write at all, in the metrics log (slows training)."),
      Option("infini_attention.logging_interval", VT::Int, 100).min(1).max(1 << 30).by("infini")
          .doc("Steps between infini-attention log records."),
      Option("infini_attention.log_grad", VT::Bool, false).by("infini")
          .doc("Also record the gradient norms of the gate and memory projections."),
      Option("infini_attention.log_segment_acts", VT::Bool, false).by("infini")
          .doc("With logging, also record the RMS of the local, memory and output activations of every segment of "
               "the last forward (segment<j>.local_rms, .mem_rms, .out_rms; up to 4096 segments)."),
  };
  keys.rules.push_back({"`infini_attention.write_sparsity` above 0 requires `infini_attention.write_gate`.",
                        {"infini_attention.write_sparsity", "infini_attention.write_gate"},
                        [](const Config& c, std::vector<std::string>& errors) {
                          if (c.get_float("infini_attention.write_sparsity") > 0 &&
                              !c.get_bool("infini_attention.write_gate"))
                            errors.push_back("infini_attention.write_sparsity penalises the write weights of "
                                             "infini_attention.write_gate, which is false");
                        }});
  keys.add(common::qk_norm_keys());
  return keys;
}

}  // namespace memtx::infini
