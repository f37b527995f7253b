#!/usr/bin/env python3
"""bench/train_step_peer.py: the PyTorch peer of bench/train_step_bench.cpp.

The same model and training step in plain PyTorch, run from Python (the pinned torch wheel of .venv/: the
same LibTorch as memtx), so the two tokens/s figures can be compared on one machine:
  model:  tokens -> embedding -> L x [h = x + attn(rms(x)); y = h + down(silu(gate(rms(h))) * up(rms(h)))]
          -> rms -> logits = h E^T (tied embeddings, as memtx's default)
  attn:   q, k, v = x Wq, x Wk, x Wv (H heads, G kv heads); RoPE in the 'half' layout (channel i rotates
          against i + d/2, angle p * theta^(-2i/d)); causal attention through F.scaled_dot_product_attention
          (is_causal; grouped k/v with enable_gqa, as memtx calls it) or, with --explicit-attention, the
          explicit softmax(q k^T / sqrt(d) + causal mask) v that memtx's explicit path computes; then Wo.
  rms:    y = g * x / sqrt(mean(x^2) + eps), eps 1e-6.
  loss:   sum_i w_i CE(logits_i, y_i) / sum_i w_i (cross_entropy with reduction 'none', as memtx's
          masked_lm_loss_sum), backward, clip_grad_norm_(max_norm), AdamW (decay on matrices only, as memtx's
          parameter groups; foreach off, as LibTorch's C++ AdamW and torch's CPU default), zero_grad (set to
          None, the 2.x default in Python and C++).
Weights are initialised exactly as memtx does (seed 1234, N(0, init_std) drawn in memtx's order) and the
batches are drawn with the same seeds, so the losses of the two programs agree: the check that both compute
the same thing. With --match FILE (a JSON line of train_step_bench) every setting is taken from memtx's run and
the parameter count is asserted equal. cpu_ms_per_step is the median process CPU time per step (all threads).
glibc's malloc settings are left as they are (set MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 in the
environment to give the peer what memtx's retain_freed_host_memory sets). Prints one JSON line on stdout and a
readable line on stderr.
"""
import argparse
import ctypes
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_json import memtx_train_step


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        return self.weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def rope_half(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_heads, explicit):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.explicit = explicit
        self.q_proj = nn.Linear(dim, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, dim, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rope_half(q, cos, sin), rope_half(k, cos, sin)
        if self.explicit:
            if self.kv_heads != self.heads:
                k = k.repeat_interleave(self.heads // self.kv_heads, 1)
                v = v.repeat_interleave(self.heads // self.kv_heads, 1)
            scores = torch.matmul(q, k.transpose(-2, -1)) * (self.head_dim ** -0.5)
            out = torch.matmul(torch.softmax(scores + mask, dim=-1), v)
        else:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.heads)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, -1))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.attn_norm = RMSNorm(a.hidden, a.norm_eps)
        self.attn = Attention(a.hidden, a.heads, a.kv_heads, a.explicit_attention)
        self.mlp_norm = RMSNorm(a.hidden, a.norm_eps)
        self.mlp = Mlp(a.hidden, a.intermediate)

    def forward(self, x, cos, sin, mask):
        h = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return h + self.mlp(self.mlp_norm(h))


class Transformer(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList([Block(a) for _ in range(a.layers)])
        self.norm = RMSNorm(a.hidden, a.norm_eps)
        self.lm_head = None if a.tied else nn.Linear(a.hidden, a.vocab, bias=False)
        head_dim = a.hidden // a.heads
        inv_freq = a.rope_theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        angles = torch.outer(torch.arange(a.seq, dtype=torch.float32), inv_freq)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)
        keep = torch.ones(a.seq, a.seq, dtype=torch.bool).tril()
        self.register_buffer("mask", torch.zeros(a.seq, a.seq).masked_fill(~keep, float("-inf")), persistent=False)
        self.init_like_memtx(a.init_std, a.seed)

    @torch.no_grad()
    def init_like_memtx(self, std, seed):
        # memtx's TransformerImpl::initialize: one seed, then normal_ in this order.
        torch.manual_seed(seed)
        self.embed_tokens.weight.normal_(0.0, std)
        if self.lm_head is not None:
            self.lm_head.weight.normal_(0.0, std)
        for block in self.layers:
            for proj in (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj, block.attn.o_proj):
                proj.weight.normal_(0.0, std)
            for proj in (block.mlp.gate_proj, block.mlp.up_proj, block.mlp.down_proj):
                proj.weight.normal_(0.0, std)

    def forward(self, tokens):
        T = tokens.shape[1]
        cos, sin, mask = self.cos[:T], self.sin[:T], self.mask[:T, :T]
        x = self.embed_tokens(tokens)
        for block in self.layers:
            x = block(x, cos, sin, mask)
        x = self.norm(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, self.embed_tokens.weight)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--match", help="a file holding train_step_bench's JSON line: take every setting from it")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=0)
    p.add_argument("--intermediate", type=int, default=704)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--explicit-attention", action="store_true")
    p.add_argument("--untied", action="store_true")
    a = p.parse_args()
    a.expect_parameters = None
    if a.match:
        m = memtx_train_step(a.match)
        if m is None:
            sys.exit(f"train_step_peer: no train_step_bench JSON line in {a.match}")
        for key in ("steps", "warmup_steps", "batch", "seq_len", "hidden", "layers", "heads", "kv_heads",
                    "intermediate", "vocab", "lr", "weight_decay", "beta1", "beta2", "eps", "max_grad_norm"):
            setattr(a, {"warmup_steps": "warmup", "seq_len": "seq"}.get(key, key), m[key])
        a.threads = m["threads"]
        a.explicit_attention = m["attention"] == "explicit"
        a.untied = not m["tie_embeddings"]
        a.expect_parameters = m["parameters"]
        if m["optimizer"] != "adamw" or m["dtype"] != "float32":
            sys.exit("train_step_peer: only the float32 AdamW run is mirrored")
    if a.kv_heads == 0:
        a.kv_heads = a.heads
    a.tied = not a.untied
    a.norm_eps, a.rope_theta, a.init_std, a.seed = 1e-6, 10000.0, 0.02, 1234  # memtx's defaults
    return a


def set_blas_threads(n):
    # torch.set_num_threads sizes LibTorch's OpenMP pool only; OpenBLAS keeps its own pool. Same as memtx's bench.
    try:
        lib = ctypes.CDLL("libopenblas.so.0")  # the copy libtorch already loaded
        if n > 0:
            lib.openblas_set_num_threads(n)
        return lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return -1


def random_batch(a, seed):
    # The same draws as train_step_bench's random_batch: rows of T + 1 tokens, every target counted.
    torch.manual_seed(seed)
    rows = torch.randint(0, a.vocab, (a.batch * (a.seq + 1),), dtype=torch.long).view(a.batch, a.seq + 1)
    weights = torch.ones(a.batch, a.seq)
    return rows[:, :-1].contiguous(), rows[:, 1:].contiguous(), weights, int(weights.sum().item())


def main():
    a = parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    blas_threads = set_blas_threads(a.threads)
    model = Transformer(a)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    if a.expect_parameters is not None and n_params != a.expect_parameters:
        sys.exit(f"train_step_peer: {n_params} parameters, memtx has {a.expect_parameters}: not the same model")
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": a.weight_decay}]
    optimizer = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, foreach=False)
    params = list(model.parameters())
    batches = [random_batch(a, 1000 + i) for i in range(4)]

    names = ("forward", "loss", "backward", "clip", "optimizer", "zero_grad")
    phases = {n: [] for n in names}
    step_ms, cpu_ms = [], []
    faults_timed = 0
    loss_first = loss_last = 0.0
    clock = time.perf_counter
    for step in range(a.warmup + a.steps):
        inputs, targets, weights, count = batches[step % len(batches)]
        cpu0 = time.process_time()
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = [clock()]
        logits = model(inputs)
        t.append(clock())
        per_token = F.cross_entropy(logits.reshape(-1, a.vocab).float(), targets.reshape(-1), reduction="none")
        loss = (per_token * weights.reshape(-1).float()).sum() / count
        t.append(clock())
        loss.backward()
        t.append(clock())
        torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
        t.append(clock())
        optimizer.step()
        t.append(clock())
        optimizer.zero_grad()
        t.append(clock())
        cpu1 = time.process_time()
        faults1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        value = loss.item()
        if step == 0:
            loss_first = value
        loss_last = value
        if step < a.warmup:
            continue
        step_ms.append((t[6] - t[0]) * 1e3)
        cpu_ms.append((cpu1 - cpu0) * 1e3)
        faults_timed += faults1 - faults0
        for k, n in enumerate(names):
            phases[n].append((t[k + 1] - t[k]) * 1e3)

    tokens_per_step = a.batch * a.seq
    median = statistics.median(step_ms)
    out = {
        "bench": "train_step", "impl": "pytorch", "device": "cpu", "dtype": "float32",
        "threads": torch.get_num_threads(), "blas_threads": blas_threads, "torch": torch.__version__, "python": sys.version.split()[0],
        "batch": a.batch, "seq_len": a.seq, "hidden": a.hidden, "layers": a.layers, "heads": a.heads,
        "kv_heads": a.kv_heads, "intermediate": a.intermediate, "vocab": a.vocab, "tie_embeddings": a.tied,
        "attention": "explicit" if a.explicit_attention else "sdpa", "parameters": n_params,
        "optimizer": "adamw", "lr": a.lr, "weight_decay": a.weight_decay, "beta1": a.beta1, "beta2": a.beta2,
        "eps": a.eps, "max_grad_norm": a.max_grad_norm, "warmup_steps": a.warmup, "steps": a.steps,
        "tokens_per_step": tokens_per_step, "ms_per_step": median, "ms_per_step_mean": statistics.fmean(step_ms),
        "cpu_ms_per_step": statistics.median(cpu_ms),
        "page_faults_per_step": faults_timed / a.steps,
        "tokens_per_s": tokens_per_step / (median / 1e3),
        "phase_ms": {n: statistics.median(v) for n, v in phases.items()},
        "loss_first": loss_first, "loss_last": loss_last,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print(json.dumps(out), flush=True)
    print(f"pytorch: {out['tokens_per_s']:.0f} tokens/s, {median:.1f} ms/step (median of {a.steps}), "
          f"{out['threads']} threads, {n_params} params, loss {loss_first:.4f} -> {loss_last:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
