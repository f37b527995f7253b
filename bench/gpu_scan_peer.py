#!/usr/bin/env python3
"""bench/gpu_scan_peer.py: memtx's selective scan on the GPU against the PyTorch loop transformers runs.

The peer is the sequential scan written the way transformers' Mamba runs it without its kernels: the
discretised inputs for the whole sequence first, then one Python iteration per time step,
    dA = exp(dt A),  dBu = dt B u                        [B, T, C, N]
    for t in range(T):  h = dA_t * h + dBu_t;  y_t = (h * C_t).sum(-1)
timed forward + backward ((y * dy).sum().backward()) on the shapes of bench/ssm_scan_bench.cpp: batch 1,
C = d_inner 512 channels, N = d_state 16, float32, inputs drawn as that program draws them (dt = softplus of
N(-2, 1), A = -[1..N] per channel). Median of --repeats after --warmup runs, the device synchronised before
each clock read.

With --memtx-bench PATH it first runs `PATH --device cuda REPEATS` (memtx's ssm_scan_bench) and reads its JSON
lines: for each "scan" line of the CUDA device at a length T it prints one JSON line with the peer's time at T,
memtx's time (--memtx-field, e.g. chunked_ms, the CUDA kernel; by default the fastest of its *_ms timings other
than the sequential reference and the CPU times; memtx's sequential loop on the GPU and the kernel's largest
relative difference from it ride along as memtx_sequential_ms and memtx_max_rel_diff), the ratio peer / memtx and
"status": "pass" when ratio >= --target (300, shared/docs/performance.md), else "fail". Without a CUDA device it
prints {"bench": "ssm_scan_peer", "skipped": "no CUDA device"} and exits 0 (--device cpu runs the peer alone on
the CPU, for a smoke test).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from bench_json import json_lines

CHANNELS, STATE = 512, 16


def make_inputs(T, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(1, T, CHANNELS, generator=g)
    dt = F.softplus(torch.randn(1, T, CHANNELS, generator=g) - 2.0)
    A = -torch.arange(1, STATE + 1, dtype=torch.float32).repeat(CHANNELS, 1)
    Bm = torch.randn(1, T, STATE, generator=g)
    Cm = torch.randn(1, T, STATE, generator=g)
    dy = torch.randn(1, T, CHANNELS, generator=g)
    leaves = [t.to(device).requires_grad_(True) for t in (u, dt, A, Bm, Cm)]
    return leaves, dy.to(device)


def torch_loop_scan(u, dt, A, Bm, Cm):
    B, T, C = u.shape
    dA = torch.exp(dt.unsqueeze(-1) * A)                              # [B, T, C, N]
    dBu = dt.unsqueeze(-1) * Bm.unsqueeze(2) * u.unsqueeze(-1)         # [B, T, C, N]
    h = torch.zeros(B, C, A.shape[-1], device=u.device, dtype=u.dtype)
    ys = []
    for t in range(T):
        h = dA[:, t] * h + dBu[:, t]
        ys.append((h * Cm[:, t].unsqueeze(1)).sum(-1))
    return torch.stack(ys, dim=1)                                      # [B, T, C]


def time_peer(T, device, warmup, repeats):
    leaves, dy = make_inputs(T, device)
    cuda = device.type == "cuda"

    def once():
        for x in leaves:
            x.grad = None
        (torch_loop_scan(*leaves) * dy).sum().backward()

    for _ in range(warmup):
        once()
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        once()
        if cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def memtx_ms(line, field):
    """memtx's scan time of one ssm_scan_bench line: the named field, or the fastest non-reference timing."""
    if field:
        return field, line.get(field)
    candidates = {k: v for k, v in line.items()
                  if k.endswith("_ms") and isinstance(v, (int, float)) and "cpu" not in k
                  and not k.startswith("sequential") and not k.startswith("torch")}
    if not candidates:
        return None, None
    name = min(candidates, key=candidates.get)
    return name, candidates[name]


def run_memtx(bench, repeats, timeout):
    proc = subprocess.run([bench, "--device", "cuda", str(repeats)], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, json_lines(proc.stdout.splitlines()), proc.stderr.strip().splitlines()[-3:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--tokens", type=int, nargs="+", default=None,
                   help="lengths for the peer (default: those of memtx's lines, else 1024 4096)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--memtx-bench", help="path of memtx's ssm_scan_bench (run with --device cuda)")
    p.add_argument("--memtx-field", default="", help="the *_ms field of memtx's line to compare (default: fastest)")
    p.add_argument("--memtx-timeout", type=float, default=180.0)
    p.add_argument("--target", type=float, default=300.0)
    a = p.parse_args()
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"bench": "ssm_scan_peer", "skipped": "no CUDA device"}), flush=True)
        return 0

    memtx_lines, memtx_error = {}, None
    if a.memtx_bench:
        try:
            rc, lines, err_tail = run_memtx(a.memtx_bench, a.repeats, a.memtx_timeout)
        except subprocess.TimeoutExpired:
            rc, lines, err_tail = None, [], [f"timed out after {a.memtx_timeout:.0f} s"]
        except OSError as e:
            rc, lines, err_tail = None, [], [str(e)]
        for line in lines:
            if line.get("level") == "scan" and line.get("device") == "cuda":
                memtx_lines[int(line["tokens"])] = line
        if not memtx_lines:
            if rc == 0 and lines:
                memtx_error = ("ssm_scan_bench printed no 'scan' line with \"device\": \"cuda\" (its --device cuda "
                               "option is missing or names the device differently)")
            else:
                memtx_error = f"ssm_scan_bench --device cuda failed (exit {rc}): " + " | ".join(err_tail)

    lengths = a.tokens or sorted(memtx_lines) or [1024, 4096]
    gpu = torch.cuda.get_device_name() if device.type == "cuda" else None
    for T in lengths:
        peer = time_peer(T, device, a.warmup, a.repeats)
        out = {"bench": "ssm_scan_peer", "level": "scan", "timed": "forward+backward", "device": a.device,
               "tokens": T, "batch": 1, "d_inner": CHANNELS, "d_state": STATE, "dtype": "float32",
               "torch": torch.__version__, "peer": "torch loop (transformers' slow path)", "repeats": a.repeats,
               "torch_loop_ms": peer, "torch_loop_tokens_per_s": T / (peer / 1e3)}
        if gpu:
            out["gpu"] = gpu
        if a.memtx_bench:
            line = memtx_lines.get(T)
            if line is None:
                out["memtx_error"] = memtx_error or f"ssm_scan_bench printed no CUDA scan line at {T} tokens"
            else:
                field, ms = memtx_ms(line, a.memtx_field)
                if ms is None or ms <= 0:
                    out["memtx_error"] = f"no usable timing in ssm_scan_bench's line ({field or 'no *_ms field'})"
                else:
                    ratio = peer / ms
                    out.update({"memtx_field": field, "memtx_ms": ms, "memtx_tokens_per_s": T / (ms / 1e3),
                                "ratio": ratio, "target_ratio": a.target,
                                "status": "pass" if ratio >= a.target else "fail"})
                    for key in ("sequential_ms", "max_rel_diff"):
                        if key in line:
                            out["memtx_" + key] = line[key]
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
