#!/usr/bin/env python3
"""bench/long_context_train_bench.py: training memory and speed against sequence length for an Infini-attention
model (configs/infini_small.yaml: 4 x 256, segments of 64 tokens), on this machine.

For each length L (default 1k, 8k and 32k tokens per example, batch 1; TOKENS / L steps, so every run trains
the same number of tokens and start-up costs weigh the same) it runs `memtx-cli train` twice, measured
in the same invocation:
  groups - infini_attention.detach_every K (default 2): each group of K segments is back-propagated as soon as
           it is done (train/segment_groups.hpp), so one group's activations are alive at a time;
  whole  - detach_every 0: one backward pass over the whole sequence (the peer: every segment's activations
           live until the end of the forward pass);
  checkpointed - detach_every 0 with training.gradient_checkpointing: the same full back-propagation, but each
           block of each segment keeps only its input and carried state and recomputes the rest in backward.
and prints one JSON line per run (peak RSS of the training process and tokens/s, from its --json report;
seconds per 1k tokens) and one "ratio" line per mode: the largest over the smallest peak RSS and time per token
across the lengths (flat memory and speed: both close to 1), and for each length the mode's peak RSS over groups'.

Usage: bench/long_context_train_bench.py [--lengths 1024 8192 32768] [--tokens 65536] [--detach_every 2]
Needs build/bin/memtx-cli and build/plugins (the default build).
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def run(cli, length, steps, detach_every, checkpointing, out_dir):
    args = [str(cli), "train", "--config", str(ROOT / "configs" / "infini_small.yaml"),
            "--dataset_name", f"synthetic:passkey?length={length}&examples={steps + 2}",
            "--max_length", str(length), "--max_seq_len", str(length), "--batch_size", "1",
            "--gradient_accumulation_steps", "1", "--max_steps", str(steps), "--warmup_steps", "1",
            "--detach_every", str(detach_every), "--gradient_checkpointing", "true" if checkpointing else "false",
            "--save_steps", str(100 * steps), "--logging_steps", "1",
            "--device", "cpu", "--output_dir", str(out_dir), "--quiet", "--json"]
    done = subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    report = json.loads(done.stdout)
    mode = "groups" if detach_every else "checkpointed" if checkpointing else "whole"
    return {"mode": mode, "length": length, "detach_every": detach_every,
            "steps": steps, "peak_rss_mib": round(report["peak_rss_bytes"] / 2**20, 1),
            "tokens_per_second": round(report["tokens_per_second"], 1),
            "seconds_per_1k_tokens": round(1000 / report["tokens_per_second"], 4)}


def spread(values):
    return max(values) / min(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 8192, 32768])
    parser.add_argument("--tokens", type=int, default=65536, help="tokens trained per run (at least 2 steps)")
    parser.add_argument("--detach_every", type=int, default=2)
    parser.add_argument("--build", default=os.environ.get("MEMTX_BUILD_DIR", str(ROOT / "build")))
    a = parser.parse_args()
    cli = pathlib.Path(a.build) / "bin" / "memtx-cli"
    results = {"groups": [], "whole": [], "checkpointed": []}
    with tempfile.TemporaryDirectory(prefix="memtx-long-train-") as tmp:
        for length in a.lengths:
            for mode, k, checkpointing in (("groups", a.detach_every, False), ("whole", 0, False),
                                           ("checkpointed", 0, True)):
                steps = max(2, a.tokens // length)
                line = run(cli, length, steps, k, checkpointing, pathlib.Path(tmp) / f"{mode}{length}")
                results[mode].append(line)
                print(json.dumps({"bench": "long_context_train", **line}), flush=True)
    for mode, runs in results.items():
        print(json.dumps({"bench": "long_context_train", "kind": "ratio", "mode": mode,
                          "peak_rss_max_over_min": round(spread([r["peak_rss_mib"] for r in runs]), 3),
                          "time_per_token_max_over_min": round(spread([r["seconds_per_1k_tokens"] for r in runs]), 3),
                          "peak_rss_over_groups": {g["length"]: round(r["peak_rss_mib"] / g["peak_rss_mib"], 3)
                                                   for g, r in zip(results["groups"], runs)}}))


if __name__ == "__main__":
    main()
