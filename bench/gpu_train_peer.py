#!/usr/bin/env python3
"""bench/gpu_train_peer.py: the PyTorch peers of train_step_bench --device cuda (scripts/gpu-check.sh runs both).

One training step, timed the same way for every peer: zero_grad, forward and loss under bf16 autocast,
backward, clip_grad_norm_(max_grad_norm), AdamW (fused on CUDA; decay on matrices only, as memtx's parameter
groups). The device is synchronised before each clock read (at the step's start and end); the step time is
the median of the timed steps after the warm-up steps (the first of which, with --compile, compiles).

Models (--model):
  gpt        a GPT written here, nanoGPT-style, in the shape memtx builds for the same options, so the
             parameter counts match: tokens -> embedding -> L x [h = x + attn(norm(x)); y = h + mlp(norm(h))]
             -> norm -> tied head. attn: q, k, v, o without bias, RoPE (half layout), SDPA with is_causal;
             norm: RMSNorm (--norm rms) or LayerNorm (--norm layer); mlp: SwiGLU (--mlp swiglu) or GELU
             (--mlp gelu). --compile compiles forward and loss together with torch.compile.
  llama      transformers' LlamaForCausalLM (SDPA) from a config built here (no download).
  deepseek   transformers' DeepseekV3ForCausalLM, every layer dense (first_k_dense_replace = layers), MLA with
             q directly projected (q_lora_rank null), kv latent --mla-latent-dim, rotary --mla-rotary-dim,
             nope and value head size = hidden / heads (memtx's mla defaults).
  mamba      transformers' MambaForCausalLM; without the mamba-ssm kernels its forward is the torch loop over
             time steps ("scan_path" in the JSON says which ran).
The transformers peers print {"skipped": "transformers not installed", ...} and exit 0 when transformers is
missing; every peer does the same with {"skipped": "no CUDA device"} when --device cuda finds none.

--match FILE takes the shapes (batch, seq_len, hidden, layers, heads, kv_heads, intermediate, vocab, mlp, norm,
tie_embeddings, lr, weight_decay, max_grad_norm, steps, warmup_steps) from the last memtx train_step JSON line
in FILE; for --model gpt the parameter count must then equal memtx's.
MFU: (6 N + 12 L D T) FLOPs per token (N the parameter count, T the sequence length; shared/docs/performance.md)
times tokens/s over --peak-tflops (default 989, the H100's dense bf16 peak).
Prints one JSON line on stdout (fields as train_step_bench's: tokens_per_s, ms_per_step, mfu,
peak_gpu_allocated_mb, ...) and a readable line on stderr.
"""
import argparse
import importlib.util
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_json import memtx_train_step


# ---------------------------------------------------------------------------------------------------------
# The GPT peer.

class Norm(nn.Module):
    """RMSNorm (weight only) or LayerNorm (weight and bias), eps as memtx's model.norm_eps default."""

    def __init__(self, dim, rms, eps=1e-6):
        super().__init__()
        self.rms, self.eps, self.shape = rms, eps, (dim,)
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = None if rms else nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        if self.rms:
            return F.rms_norm(x, self.shape, self.weight, self.eps)
        return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)


def rotate_half_layout(x, cos, sin):
    # channel i turns against channel i + d/2 by angle p * theta^(-2i/d)
    d = x.shape[-1] // 2
    lo, hi = x[..., :d], x[..., d:]
    return torch.cat((lo * cos - hi * sin, hi * cos + lo * sin), dim=-1)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, dim // heads
        self.q_proj = nn.Linear(dim, heads * self.hd, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.hd, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(heads * self.hd, dim, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q, k = rotate_half_layout(q, cos, sin), rotate_half_layout(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.heads)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden, swiglu):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False) if swiglu else None
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        if self.gate_proj is not None:
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(F.gelu(self.up_proj(x)))


class Layer(nn.Module):
    def __init__(self, a):
        super().__init__()
        rms = a.norm == "rms"
        self.attn_norm = Norm(a.hidden, rms)
        self.attn = SelfAttention(a.hidden, a.heads, a.kv_heads)
        self.mlp_norm = Norm(a.hidden, rms) if a.use_mlp else None
        self.mlp = FeedForward(a.hidden, a.intermediate, a.mlp == "swiglu") if a.use_mlp else None

    def forward(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        if self.mlp is not None:
            x = x + self.mlp(self.mlp_norm(x))
        return x


class GPT(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(Layer(a) for _ in range(a.layers))
        self.norm = Norm(a.hidden, a.norm == "rms")
        self.lm_head = None if a.tied else nn.Linear(a.hidden, a.vocab, bias=False)
        hd = a.hidden // a.heads
        inv_freq = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        angles = torch.outer(torch.arange(a.seq, dtype=torch.float32), inv_freq)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    p.normal_(0.0, 0.02)

    def forward(self, tokens):
        T = tokens.shape[1]
        cos, sin = self.cos[:T], self.sin[:T]
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin)
        x = self.norm(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, self.embed_tokens.weight)


# ---------------------------------------------------------------------------------------------------------
# The transformers peers, from configs built here.

def transformers_version():
    if importlib.util.find_spec("transformers") is None:
        return None
    import transformers
    return transformers.__version__


class HfLogits(nn.Module):
    """Wraps a transformers causal LM so that forward(tokens) returns logits, with no cache."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        return self.model(input_ids=tokens, use_cache=False).logits


def build_hf(a):
    import transformers as tf
    common = dict(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                  tie_word_embeddings=a.tied, pad_token_id=None, bos_token_id=None, eos_token_id=None)
    info = {}
    if a.model == "llama":
        cfg = tf.LlamaConfig(intermediate_size=a.intermediate, num_attention_heads=a.heads,
                             num_key_value_heads=a.kv_heads, max_position_embeddings=max(a.seq, 256),
                             rms_norm_eps=1e-6, attention_bias=False, mlp_bias=False, **common)
        cfg._attn_implementation = "sdpa"
        model = tf.LlamaForCausalLM(cfg)
    elif a.model == "deepseek":
        hd = a.hidden // a.heads
        cfg = tf.DeepseekV3Config(intermediate_size=a.intermediate, num_attention_heads=a.heads,
                                  num_key_value_heads=a.heads, kv_lora_rank=a.mla_latent_dim or a.hidden // 4,
                                  q_lora_rank=None, qk_rope_head_dim=a.mla_rotary_dim, qk_nope_head_dim=hd,
                                  v_head_dim=hd, first_k_dense_replace=a.layers, n_routed_experts=1,
                                  n_shared_experts=1, num_experts_per_tok=1, n_group=1, topk_group=1,
                                  moe_intermediate_size=a.intermediate, max_position_embeddings=max(a.seq, 256),
                                  rms_norm_eps=1e-6, **common)
        cfg._attn_implementation = "sdpa"
        model = tf.DeepseekV3ForCausalLM(cfg)
        info["dense_layers"] = cfg.first_k_dense_replace
    elif a.model == "mamba":
        cfg = tf.MambaConfig(state_size=a.ssm_d_state, expand=a.ssm_expand, conv_kernel=a.ssm_conv,
                             time_step_rank=a.ssm_dt_rank, use_bias=False, use_conv_bias=True,
                             layer_norm_epsilon=1e-6, use_mambapy=False, **common)
        model = tf.MambaForCausalLM(cfg)
        kernels = all(importlib.util.find_spec(m) is not None for m in ("mamba_ssm", "causal_conv1d"))
        info["scan_path"] = "mamba_ssm kernels" if kernels else "torch loop"
    else:
        raise ValueError(a.model)
    return HfLogits(model), info


# ---------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("gpt", "llama", "deepseek", "mamba"), default="gpt")
    p.add_argument("--match", help="a file holding train_step_bench's JSON line: take the shapes from it")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--kv-heads", type=int, default=0)
    p.add_argument("--intermediate", type=int, default=3072)
    p.add_argument("--vocab", type=int, default=50304)
    p.add_argument("--mlp", choices=("swiglu", "gelu"), default="gelu")
    p.add_argument("--no-mlp", dest="use_mlp", action="store_false", help="mixer-only blocks (gpt)")
    p.add_argument("--norm", choices=("rms", "layer"), default="layer")
    p.add_argument("--untied", action="store_true")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--mla-latent-dim", type=int, default=0, help="deepseek: kv_lora_rank (0: hidden / 4)")
    p.add_argument("--mla-rotary-dim", type=int, default=32, help="deepseek: qk_rope_head_dim")
    p.add_argument("--ssm-d-state", type=int, default=16)
    p.add_argument("--ssm-expand", type=int, default=2)
    p.add_argument("--ssm-conv", type=int, default=4)
    p.add_argument("--ssm-dt-rank", type=int, default=32)
    p.add_argument("--peak-tflops", type=float, default=989.0)
    p.add_argument("--label", default="")
    a = p.parse_args(argv)
    a.expect_parameters = None
    if a.match:
        m = memtx_train_step(a.match)
        if m is None:
            sys.exit(f"gpu_train_peer: no train_step_bench JSON line in {a.match}")
        for key in ("batch", "seq_len", "hidden", "layers", "heads", "kv_heads", "intermediate", "vocab", "lr",
                    "weight_decay", "max_grad_norm", "steps", "warmup_steps"):
            setattr(a, {"seq_len": "seq", "warmup_steps": "warmup"}.get(key, key), m[key])
        a.untied = not m["tie_embeddings"]
        a.norm = m.get("norm", a.norm)
        if m.get("mlp") == "none":
            a.use_mlp = False
        elif m.get("mlp"):
            a.mlp = m["mlp"]
        if a.model == "gpt" and m.get("variant", "causal") == "causal":
            a.expect_parameters = m["parameters"]
    if a.kv_heads == 0:
        a.kv_heads = a.heads
    a.tied = not a.untied
    return a


def emit(out):
    print(json.dumps(out), flush=True)


def main(argv=None):
    a = parse_args(argv)
    impl = {"gpt": "pytorch", "llama": "transformers", "deepseek": "transformers", "mamba": "transformers"}[a.model]
    if a.compile:
        impl += "+compile"
    head = {"bench": "train_step", "impl": impl, "model": a.model, "device": a.device}
    if a.label:
        head["label"] = a.label
    if a.device == "cuda" and not torch.cuda.is_available():
        emit({**head, "skipped": "no CUDA device"})
        return 0
    tf_version = None
    if a.model != "gpt":
        tf_version = transformers_version()
        if tf_version is None:
            emit({**head, "skipped": "transformers not installed"})
            return 0
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(1234)
    info = {}
    if a.model == "gpt":
        model = GPT(a)
    else:
        model, info = build_hf(a)
    model = model.to(device)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())  # shared (tied) tensors once
    if a.expect_parameters is not None and n_params != a.expect_parameters:
        sys.exit(f"gpu_train_peer: {n_params} parameters, memtx has {a.expect_parameters}: not the same model")
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": a.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=cuda)

    def forward_loss(x, y):
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))

    # --compile: forward and loss compiled together, as nanoGPT's compiled model computes its loss inside.
    step_forward = torch.compile(forward_loss) if a.compile else forward_loss

    gen = torch.Generator().manual_seed(1000)
    batches = []
    for _ in range(4):
        rows = torch.randint(0, a.vocab, (a.batch, a.seq + 1), generator=gen)
        batches.append((rows[:, :-1].contiguous().to(device), rows[:, 1:].contiguous().to(device)))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")

    def sync():
        if cuda:
            torch.cuda.synchronize()

    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    step_ms, losses = [], []
    first_step_s = None
    for step in range(a.warmup + a.steps):
        x, y = batches[step % len(batches)]
        sync()
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = step_forward(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
        optimizer.step()
        sync()
        t1 = time.perf_counter()
        losses.append(loss.item())
        if step == 0:
            first_step_s = t1 - t0
        if step >= a.warmup:
            step_ms.append((t1 - t0) * 1e3)

    tokens_per_step = a.batch * a.seq
    median = statistics.median(step_ms)
    tokens_per_s = tokens_per_step / (median / 1e3)
    flops_per_token = 6.0 * n_params + 12.0 * a.layers * a.hidden * a.seq
    out = {**head, "precision": a.precision, "torch": torch.__version__, "python": sys.version.split()[0],
           "batch": a.batch, "seq_len": a.seq, "hidden": a.hidden, "layers": a.layers, "heads": a.heads,
           "kv_heads": a.kv_heads, "intermediate": a.intermediate, "vocab": a.vocab, "tie_embeddings": a.tied,
           "parameters": n_params, "optimizer": "adamw" + (" fused" if cuda else ""), "lr": a.lr,
           "weight_decay": a.weight_decay, "max_grad_norm": a.max_grad_norm, "warmup_steps": a.warmup,
           "steps": a.steps, "tokens_per_step": tokens_per_step, "ms_per_step": median,
           "ms_per_step_mean": statistics.fmean(step_ms), "first_step_s": first_step_s,
           "tokens_per_s": tokens_per_s, "loss_first": losses[0], "loss_last": losses[-1],
           "finite": all(math.isfinite(v) for v in losses), **info}
    if a.model == "gpt":
        out.update({"mlp": a.mlp if a.use_mlp else "none", "norm": a.norm, "attention": "sdpa"})
    if tf_version:
        out["transformers"] = tf_version
    if cuda:
        out.update({"gpu": torch.cuda.get_device_name(), "tf32": True, "flops_per_token": flops_per_token,
                    "peak_tflops": a.peak_tflops, "mfu": tokens_per_s * flops_per_token / (a.peak_tflops * 1e12),
                    "peak_gpu_allocated_mb": torch.cuda.max_memory_allocated() / 2**20,
                    "peak_gpu_reserved_mb": torch.cuda.max_memory_reserved() / 2**20})
    emit(out)
    mfu = f", MFU {100 * out['mfu']:.1f}%" if cuda else ""
    print(f"{impl} {a.model}: {tokens_per_s:.0f} tokens/s, {median:.1f} ms/step (median of {a.steps}), "
          f"{n_params} params, loss {losses[0]:.4f} -> {losses[-1]:.4f}{mfu}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
