// mla/mla_keys.cpp: the keys of multi-head latent attention (DeepSeek's names in the docs) and its rule:
// mla_rotary_dim is even (RoPE rotates pairs of channels).
#include "mla/mla_keys.hpp"

namespace memtx::mla {

VariantKeys mla_keys() {
  using VT = ValueType;
  const Value null_default;
  VariantKeys keys;
  keys.options = {
      Option("attention.mla_latent_dim", VT::Int, null_default).min(1).max(65536).by("mla")
          .doc("Rank of MLA's compressed key/value latent, which is what its cache stores per token; null means "
               "hidden_dim / 4."),
      Option("attention.mla_rotary_dim", VT::Int, 32).min(2).max(65536).by("mla")
          .doc("Size of MLA's rotary query/key part (the rotary key is shared by all heads); must be even."),
      Option("attention.use_mla_lobo", VT::Bool, false).by("mla")
          .doc("Add an attention sink, as in Flash LoBo, to MLA layers."),
      Option("attention.mla_lobo_init", VT::Float, 0.0).by("mla")
          .doc("Initial value of the MLA sink logit."),
      Option("attention.mla_q_lora_rank", VT::Int, null_default).min(1).max(65536).by("mla")
          .doc("Rank of MLA's compressed query (q = RMSNorm(x W_qa) W_qb, DeepSeek's q_lora_rank); null projects "
               "queries directly (q = x W_q)."),
      Option("attention.mla_nope_head_dim", VT::Int, null_default).min(1).max(65536).by("mla")
          .doc("Per-head size of MLA's non-rotary query/key part (DeepSeek's qk_nope_head_dim); null means the "
               "model's head_dim."),
      Option("attention.mla_v_head_dim", VT::Int, null_default).min(1).max(65536).by("mla")
          .doc("Per-head value size of MLA (DeepSeek's v_head_dim); null means the model's head_dim."),
      Option("attention.mla_cache", VT::String, "latent").choices({"latent", "expanded"}).by("mla")
          .doc("What MLA caches when generating: latent stores the normalised latent and the rotary key "
               "(mla_latent_dim + mla_rotary_dim values per token) and decodes in the absorbed form; expanded stores "
               "per-head keys and values like ordinary attention. Both give the same outputs."),
  };
  keys.rules.push_back({"`attention.mla_rotary_dim` is even.",
                        {"attention.mla_rotary_dim"},
                        [](const Config& c, std::vector<std::string>& errors) {
                          if (c.get_int("attention.mla_rotary_dim") % 2 != 0)
                            errors.push_back("attention.mla_rotary_dim (" + c.get("attention.mla_rotary_dim").to_string() +
                                             ") must be even (RoPE rotates pairs of channels)");
                        }});
  return keys;
}

}  // namespace memtx::mla
