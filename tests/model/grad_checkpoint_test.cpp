// Gradient checkpointing: the same loss and gradients as the plain backward pass, with dropout (the random
// masks are replayed) and under bf16 autocast (the recomputation runs in the dtypes of the first pass); for a
// model run in segments with carried state (infini, ssm and causal layers, full and truncated
// back-propagation) per segment, with a graph that keeps a node per block and segment instead of every
// intermediate, and with the layers' auxiliary loss (the write gate's sparsity penalty) and its gradient kept.
#include <set>

#include "memtx/torch_compat.hpp"
#include "model/grad_checkpoint.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

// The autograd nodes reachable from t's grad_fn.
size_t graph_nodes(const torch::Tensor& t) {
  std::set<torch::autograd::Node*> seen;
  std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
  while (!todo.empty()) {
    auto* node = todo.back();
    todo.pop_back();
    if (!node || !seen.insert(node).second) continue;
    for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
  }
  return seen.size();
}

// The loss: the mean log-probability of the logits, plus the layers' auxiliary loss when there is one.
std::map<std::string, torch::Tensor> loss_and_grads(Transformer& model, const torch::Tensor& tokens, bool recompute,
                                                    bool autocast, size_t* nodes = nullptr) {
  model->set_gradient_checkpointing(recompute);
  model->train();
  model->zero_grad();
  torch::manual_seed(7);
  if (autocast) compat::set_autocast(c10::DeviceType::CPU, true, torch::kBFloat16);
  auto logits = model->forward(tokens);
  if (autocast) {
    compat::set_autocast(c10::DeviceType::CPU, false, torch::kFloat32);
    at::autocast::clear_cache();
  }
  auto loss = logits.to(torch::kFloat64).log_softmax(-1).mean();
  const torch::Tensor aux = model->auxiliary_loss();
  if (aux.defined()) loss = loss + aux.to(torch::kFloat64);
  if (nodes) *nodes = graph_nodes(loss);
  loss.backward();
  std::map<std::string, torch::Tensor> out{{"loss", loss.detach()}};
  if (aux.defined()) out["auxiliary"] = aux.detach();
  for (const auto& p : model->named_parameters()) out[p.key()] = p.value().grad().clone();
  return out;
}

void expect_same(bool autocast, double tolerance) {
  Transformer model(tiny_config({"model.dropout=0.2", "model.attention_dropout=0.1"}), plugin_registry());
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  const auto plain = loss_and_grads(model, tokens, false, autocast);
  const auto recomputed = loss_and_grads(model, tokens, true, autocast);
  ASSERT_EQ(plain.size(), recomputed.size());
  for (const auto& [name, value] : plain) {
    ASSERT_TRUE(recomputed.at(name).defined()) << name;
    EXPECT_LE(max_abs_diff(value, recomputed.at(name)), tolerance) << name;
  }
  EXPECT_GT(plain.at("layers.0.attn.q_proj.weight").abs().sum().item<double>(), 0.0);
}

TEST(GradientCheckpointing, SameLossAndGradientsWithDropout) { expect_same(false, 1e-7); }

TEST(GradientCheckpointing, SameUnderBf16Autocast) { expect_same(true, 1e-6); }

TEST(GradientCheckpointing, PerSegmentWithCarriedStateSameGradientsSmallerGraph) {
  // (detach_every, local_segments): the window of local_segments 2 is carried state too.
  const std::vector<std::pair<std::string, std::string>> cases{{"0", "1"}, {"2", "1"}, {"0", "2"}};
  for (const auto& [detach, window] : cases) {
    Transformer model(tiny_config({"attention.attention_list=[infini, ssm, causal]", "model.num_layers=3",
                                   "infini_attention.segment_length=4", "infini_attention.detach_every=" + detach,
                                   "infini_attention.local_segments=" + window,
                                   "infini_attention.balance_init_type=normal", "model.dropout=0.2"}),
                      plugin_registry());
    model->to(torch::kFloat64);
    ASSERT_EQ(model->segment_length(), 4);
    auto tokens = torch::randint(0, 97, {2, 18}, torch::kLong);  // segments of 4, 4, 4, 4, 2
    size_t plain_nodes = 0, recomputed_nodes = 0;
    const auto plain = loss_and_grads(model, tokens, false, false, &plain_nodes);
    const auto recomputed = loss_and_grads(model, tokens, true, false, &recomputed_nodes);
    ASSERT_EQ(plain.size(), recomputed.size());
    for (const auto& [name, value] : plain) {
      ASSERT_TRUE(recomputed.at(name).defined()) << name;
      const double scale = std::max(1.0, value.abs().max().item<double>());
      EXPECT_LE(max_abs_diff(value, recomputed.at(name)), 1e-10 * scale)
          << name << ", detach_every " << detach << ", local_segments " << window;
    }
    // The memory's gate sees gradients from later segments through the carried state.
    EXPECT_GT(plain.at("layers.0.attn.balance").abs().sum().item<double>(), 0.0);
    std::cout << "[checkpointing per segment] detach_every " << detach << ", local_segments " << window
              << ": graph nodes " << plain_nodes
              << " plain, " << recomputed_nodes << " recomputed\n";
    EXPECT_LT(recomputed_nodes * 3, plain_nodes);
  }
}

TEST(GradientCheckpointing, PerSegmentKeepsTheAttentionsAuxiliaryLossAndItsGradient) {
  // infini_attention.write_sparsity makes each infini layer return write_sparsity * mean(w) as its auxiliary
  // loss; under per-segment checkpointing it leaves the checkpoint as an output, so its gradient survives.
  auto gradients = [](const std::string& sparsity, bool recompute) {
    Transformer model(tiny_config({"attention.attention_list=[infini, causal]", "model.num_layers=2",
                                   "infini_attention.segment_length=4", "infini_attention.write_gate=true",
                                   "infini_attention.write_sparsity=" + sparsity,
                                   "infini_attention.balance_init_type=normal"}),
                      plugin_registry());
    model->to(torch::kFloat64);
    torch::manual_seed(3);
    auto tokens = torch::randint(0, 97, {2, 18}, torch::kLong);
    return loss_and_grads(model, tokens, recompute, false);
  };
  const auto plain = gradients("0.5", false), recomputed = gradients("0.5", true), unpenalised = gradients("0", true);
  ASSERT_TRUE(plain.count("auxiliary"));
  ASSERT_TRUE(recomputed.count("auxiliary"));
  EXPECT_FALSE(unpenalised.count("auxiliary"));
  EXPECT_GT(plain.at("auxiliary").item<double>(), 0.0);
  for (const auto& [name, value] : plain) {
    const double scale = std::max(1.0, value.abs().max().item<double>());
    EXPECT_LE(max_abs_diff(value, recomputed.at(name)), 1e-10 * scale) << name;
  }
  // The penalty's gradient reaches the write gate (a checkpoint that dropped it would match the unpenalised run).
  const std::string bias = "layers.0.attn.write_gate.bias";
  EXPECT_GT(max_abs_diff(recomputed.at(bias), unpenalised.at(bias)), 1e-6);
}

TEST(GradientCheckpointing, OffInEvalModeAndWithoutGradients) {
  Transformer model(tiny_config(), plugin_registry());
  model->set_gradient_checkpointing(true);
  model->eval();
  auto tokens = torch::randint(0, 97, {1, 6}, torch::kLong);
  auto a = model->forward(tokens);
  model->set_gradient_checkpointing(false);
  EXPECT_TRUE(torch::equal(a, model->forward(tokens)));
}

}  // namespace
}  // namespace memtx::test
