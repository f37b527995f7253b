#!/usr/bin/env python3
"""bench/dist_train_bench.py: data-parallel scaling of memtx training on this machine (CPU, Gloo).

Runs `memtx-cli train` on one config twice, measured in the same invocation:
  one  - one process with batch 2b (the peer: what the 2-rank run must reproduce),
  two  - `--nproc_per_node 2` with batch b per rank (the same global batch),
and prints one JSON line per run (tokens/s from rank 0's last "train" metrics record, wall seconds, peak RSS of
the largest process: the single process, or the largest rank/launcher) and a "ratio" line: two/one for tokens/s
and for peak RSS, the largest relative loss difference between the two runs (0 up to rounding in fp32), and
the optimizer-state bytes each rank holds (optimizer.safetensors of the last checkpoint: under ddp every rank
holds all of it; sharded state, fsdp, is not implemented, so there is no 1/world line yet).
Each run is repeated ROUNDS times (default 1) and the medians are printed.

Usage: bench/dist_train_bench.py [--config configs/cpu_small.yaml] [--steps 30] [--batch 8] [--rounds 1]
Needs build/bin/memtx-cli and build/plugins (the default build).
"""
import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def losses(metrics):
    out = {}
    for line in open(metrics):
        record = json.loads(line)
        if record.get("type") == "train":
            out[record["step"]] = record
    return out


def run(cli, config, steps, batch, nproc, out_dir):
    args = [str(cli), "train", "--config", str(config), "--max_steps", str(steps), "--warmup_steps", "2",
            "--logging_steps", "1", "--save_steps", str(steps), "--eval_steps", str(10 * steps),
            "--mixed_precision", "no", "--batch_size", str(batch), "--output_dir", str(out_dir), "--quiet"]
    if nproc > 1:
        args += ["--nproc_per_node", str(nproc)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.monotonic() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far (Linux: KiB)
    records = losses(out_dir / "metrics.jsonl")
    last = records[max(records)]
    optimizer = out_dir / f"checkpoint-{steps}" / "optimizer.safetensors"
    return {"ranks": nproc, "batch_per_rank": batch, "steps": steps, "seconds": round(seconds, 3),
            "tokens_per_second": last["tokens_per_second"], "peak_rss_mib": round(peak_kib / 1024, 1),
            "peak_rss_is_new_max": peak_kib > before,
            "optimizer_state_bytes_per_rank": optimizer.stat().st_size,
            "losses": {step: r["loss"] for step, r in records.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "cpu_small.yaml"))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8, help="global batch (each of 2 ranks takes half)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--build", default=os.environ.get("MEMTX_BUILD_DIR", str(ROOT / "build")))
    a = parser.parse_args()
    cli = pathlib.Path(a.build) / "bin" / "memtx-cli"
    results = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="memtx-dist-bench-") as tmp:
        for r in range(a.rounds):
            # The 2-rank run first: RUSAGE_CHILDREN's maximum only grows, so the single process measured second
            # reports its own peak only when it is the larger one (peak_rss_is_new_max says which).
            results[2].append(run(cli, a.config, a.steps, a.batch // 2, 2, pathlib.Path(tmp) / f"two{r}"))
            results[1].append(run(cli, a.config, a.steps, a.batch, 1, pathlib.Path(tmp) / f"one{r}"))
    summary = {}
    for ranks, runs in results.items():
        line = {k: v for k, v in runs[-1].items() if k != "losses"}
        line["tokens_per_second"] = statistics.median(x["tokens_per_second"] for x in runs)
        line["seconds"] = statistics.median(x["seconds"] for x in runs)
        summary[ranks] = line
        print(json.dumps({"bench": "dist_train", **line}))
    one, two = results[1][-1]["losses"], results[2][-1]["losses"]
    worst = max(abs(one[s] - two[s]) / abs(one[s]) for s in one)
    print(json.dumps({"bench": "dist_train", "kind": "ratio",
                      "tokens_per_second_two_over_one": summary[2]["tokens_per_second"] / summary[1]["tokens_per_second"],
                      "max_relative_loss_difference": worst,
                      "optimizer_state_bytes_per_rank_ddp": summary[2]["optimizer_state_bytes_per_rank"],
                      "optimizer_state_bytes_one_process": summary[1]["optimizer_state_bytes_per_rank"]}))


if __name__ == "__main__":
    main()
