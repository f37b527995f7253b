// model/lora.cpp: LoRA adapters on named projections, their per-forward refresh and merging (see lora.hpp).
#include "model/lora.hpp"

#include <cmath>
#include <set>
#include <sstream>

#include "memtx/text.hpp"
#include "model/transformer.hpp"

namespace memtx {
namespace {

// A module whose direct children LoRA may wrap: a layer's attention (its projection_names()) or its MLP.
struct Site {
  torch::nn::Module* owner;
  std::string prefix;                // "layers.<i>.attn." / "layers.<i>.mlp."
  std::vector<std::string> names;    // wrappable children
  std::string what;                  // "attention variant 'causal'" / "MLP", for messages
  int64_t layer;
};

std::vector<Site> sites(TransformerImpl& model) {
  std::vector<Site> out;
  for (size_t i = 0; i < model.blocks.size(); ++i) {
    auto& block = model.blocks[i];
    const std::string layer = "layers." + std::to_string(i) + ".";
    out.push_back({block->attn.get(), layer + "attn.", block->attn->projection_names(),
                   "attention variant '" + model.spec().layer_variants.at(i) + "'", static_cast<int64_t>(i)});
    if (block->mlp) {
      Site mlp{block->mlp.ptr().get(), layer + "mlp.", {}, "MLP", static_cast<int64_t>(i)};
      const auto children = block->mlp->named_children();
      for (const char* name : {"gate_proj", "up_proj", "down_proj"})
        if (children.find(name)) mlp.names.emplace_back(name);
      out.push_back(std::move(mlp));
    }
  }
  return out;
}

}  // namespace

LoraSettings LoraSettings::from_config(const Config& c) {
  LoraSettings s;
  s.rank = c.get_int("memory.lora_rank");
  s.alpha = c.get_float("memory.lora_alpha");
  s.dropout = c.get_float("memory.lora_dropout");
  s.targets = c.get_string_list("memory.lora_targets");
  return s;
}

bool lora_enabled(const Config& c) {
  return !c.get_bool("memory.vanilla_mode") &&
         (c.get_bool("memory.use_lora") || c.get_bool("memory.use_both_memory_and_lora"));
}

LoraLinearImpl::LoraLinearImpl(torch::nn::Linear base_module, int64_t rank, double scale_value, double dropout_p)
    : base(std::move(base_module)), scale(scale_value), dropout(dropout_p) {
  if (rank < 1) throw Error(StatusCode::Config, "memory.lora_rank must be >= 1, got " + std::to_string(rank));
  const auto params = base->named_parameters(/*recurse=*/false);
  const torch::Tensor* w = params.find("weight");
  if (!w) throw Error(StatusCode::Plugin, "LoRA: the projection has no registered 'weight' parameter");
  // register_parameter sets requires_grad: keep the base's own (frozen stays frozen).
  weight = register_parameter("weight", *w, w->requires_grad());
  if (const torch::Tensor* b = params.find("bias")) bias = register_parameter("bias", *b, b->requires_grad());
  const int64_t out_features = w->size(0), in_features = w->size(1);
  // A is drawn on the CPU in float32 and then moved, so one model.seed gives the same adapters on every device.
  torch::Tensor a_init = torch::empty({rank, in_features}, torch::kFloat32);
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_uniform_(a_init, std::sqrt(5.0));  // U(-1/sqrt(in), 1/sqrt(in))
  }
  lora_A = register_parameter("lora_A", a_init.to(w->options()));
  lora_B = register_parameter("lora_B", torch::zeros({out_features, rank}, w->options()));
}

LoraLinearImpl::Key LoraLinearImpl::current_key() const {
  return Key{weight.data_ptr(), lora_A.data_ptr(), lora_B.data_ptr(),
             static_cast<int64_t>(weight._version()), static_cast<int64_t>(lora_A._version()),
             static_cast<int64_t>(lora_B._version())};
}

torch::Tensor LoraLinearImpl::merged_weight() const {
  torch::NoGradGuard no_grad;
  auto delta = torch::matmul(lora_B.to(torch::kFloat32), lora_A.to(torch::kFloat32)) * scale;
  return (weight.to(torch::kFloat32) + delta).to(weight.scalar_type());
}

void LoraLinearImpl::refresh() {
  const bool drop = is_training() && dropout > 0.0;
  const bool graph = torch::GradMode::is_enabled() &&
                     (weight.requires_grad() || lora_A.requires_grad() || lora_B.requires_grad());
  if (!drop && !graph) {
    const Key key = current_key();
    if (cached_ && key == cached_key_) return;
    base->weight = merged_weight();
    cached_ = true;
    cached_key_ = key;
    return;
  }
  cached_ = false;
  torch::Tensor a = lora_A;
  if (drop) a = a * torch::dropout(torch::ones({a.size(1)}, a.options()), dropout, /*train=*/true);
  base->weight = weight + torch::matmul(lora_B, a) * scale;
}

void LoraLinearImpl::merge() {
  torch::NoGradGuard no_grad;
  weight.copy_(merged_weight());
  base->weight = weight;
  cached_ = false;
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  refresh();
  return base->forward(x);
}

std::vector<std::string> add_lora(TransformerImpl& model, const LoraSettings& settings) {
  auto all = sites(model);
  // Check every target before changing anything.
  std::vector<std::string> available;
  std::set<std::string> seen;
  for (const auto& site : all)
    for (const auto& name : site.names)
      if (seen.insert(name).second) available.push_back(name);
  std::vector<std::string> unknown;
  for (const auto& target : settings.targets)
    if (!seen.count(target)) unknown.push_back("'" + target + "'");
  if (!unknown.empty()) {
    throw Error(StatusCode::Config, "memory.lora_targets: " + join(unknown) + (unknown.size() > 1 ? " are" : " is") +
                                        " not a projection of any layer of this model; available: " + join(available));
  }
  const std::set<std::string> targets(settings.targets.begin(), settings.targets.end());
  std::vector<std::pair<Site*, std::string>> chosen;
  for (auto& site : all) {
    const auto children = site.owner->named_children();
    for (const auto& name : site.names) {
      if (!targets.count(name)) continue;
      const auto* child = children.find(name);
      const std::string where = "layer " + std::to_string(site.layer) + " (" + site.what + ")";
      if (!child) {
        throw Error(StatusCode::Plugin, where + " lists the projection '" + name +
                                            "' in projection_names() but has no submodule of that name");
      }
      if ((*child)->as<LoraLinearImpl>()) {
        throw Error(StatusCode::InvalidArgument, "LoRA: " + site.prefix + name + " has an adapter already");
      }
      if (!(*child)->as<torch::nn::LinearImpl>()) {
        throw Error(StatusCode::Plugin, where + ": projection '" + name +
                                            "' is not a torch::nn::Linear, so LoRA cannot wrap it");
      }
      chosen.emplace_back(&site, name);
    }
  }
  std::vector<std::string> paths;
  for (auto& [site, name] : chosen) {
    auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(site->owner->named_children()[name]);
    auto lora = std::make_shared<LoraLinearImpl>(torch::nn::Linear(linear), settings.rank, settings.scale(),
                                                 settings.dropout);
    lora->train(site->owner->is_training());
    site->owner->replace_module(name, lora);
    paths.push_back(site->prefix + name);
  }
  return paths;
}

std::vector<std::pair<std::string, LoraLinear>> lora_modules(TransformerImpl& model) {
  std::vector<std::pair<std::string, LoraLinear>> out;
  for (auto& site : sites(model)) {
    for (const auto& item : site.owner->named_children()) {
      if (auto lora = std::dynamic_pointer_cast<LoraLinearImpl>(item.value()))
        out.emplace_back(site.prefix + item.key(), LoraLinear(lora));
    }
  }
  return out;
}

void refresh_lora(TransformerImpl& model) {
  for (auto& block : model.blocks) {
    for (const auto& child : block->attn->children())
      if (auto* lora = child->as<LoraLinearImpl>()) lora->refresh();
    if (block->mlp)
      for (const auto& child : block->mlp->children())
        if (auto* lora = child->as<LoraLinearImpl>()) lora->refresh();
  }
}

int64_t merge_lora(TransformerImpl& model) {
  int64_t merged = 0;
  for (auto& site : sites(model)) {
    for (const auto& item : site.owner->named_children()) {
      auto lora = std::dynamic_pointer_cast<LoraLinearImpl>(item.value());
      if (!lora) continue;
      lora->merge();
      site.owner->replace_module(item.key(), lora->base.ptr());
      ++merged;
    }
  }
  if (merged == 0) return 0;
  Config& config = model.mutable_config();
  config.set("memory.use_lora", false);
  config.set("memory.use_both_memory_and_lora", false);
  if (config.get_opt_string("model.base_model_name")) config.set("model.base_model_name", Value());
  // The keys of what was merged away describe nothing now (model/setting_use.hpp would refuse them as set
  // without effect): back to their defaults.
  for (const char* key : {"memory.lora_rank", "memory.lora_alpha", "memory.lora_dropout", "memory.lora_targets",
                          "model.freeze_base_model"})
    config.set(key, config.schema().find(key)->default_value);
  model.set_base_fingerprint("");  // the merged weights are the model's own now
  return merged;
}

}  // namespace memtx
