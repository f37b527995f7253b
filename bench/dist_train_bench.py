#!/usr/bin/env python3
"""bench/dist_train_bench.py: data-parallel scaling of memtx training on this machine (CPU, Gloo).

Runs `memtx-cli train` on one config three times, measured in the same invocation:
  one  - one process with batch 2b (the peer: what the 2-rank runs must reproduce),
  ddp  - `--nproc_per_node 2` with batch b per rank (the same global batch), gradients all-reduced,
  fsdp - the same with distributed_strategy fsdp, fsdp_sharding_strategy SHARD_GRAD_OP (ZeRO-2: gradients
         reduce-scattered, optimizer state sharded),
and prints one JSON line per run (tokens/s from rank 0's last "train" metrics record, wall seconds, and from
each process's --json report the largest rank's peak RSS, optimizer-state bytes and seconds spent in gradient
reductions after the backward passes; peak_rss_mib_any_child is the largest child process so far, launcher
included, from getrusage) and a "ratio"
line: tokens/s of each 2-rank run over one process, the largest relative loss difference to one process (0 up
to rounding in fp32), and fsdp's optimizer-state bytes per rank over ddp's (expected about 1/2).
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


def reports(stdout):
    """Every JSON object the processes printed (--json: one report per process)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        i = stdout.find("{", i)
        if i < 0:
            return out
        obj, i = decoder.raw_decode(stdout, i)
        out.append(obj)


def run(cli, config, steps, batch, nproc, strategy, out_dir):
    args = [str(cli), "train", "--config", str(config), "--max_steps", str(steps), "--warmup_steps", "2",
            "--logging_steps", "1", "--save_steps", str(steps), "--eval_steps", str(10 * steps),
            "--mixed_precision", "no", "--batch_size", str(batch), "--output_dir", str(out_dir), "--quiet", "--json"]
    if nproc > 1:
        args += ["--nproc_per_node", str(nproc)]
    if strategy == "fsdp":
        args += ["--distributed_strategy", "fsdp", "--fsdp_sharding_strategy", "SHARD_GRAD_OP"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    done = subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far (Linux: KiB)
    records = losses(out_dir / "metrics.jsonl")
    last = records[max(records)]
    processes = reports(done.stdout)
    assert len(processes) == nproc, f"{len(processes)} reports from {nproc} processes"
    return {"run": strategy, "ranks": nproc, "batch_per_rank": batch, "steps": steps, "seconds": round(seconds, 3),
            "tokens_per_second": last["tokens_per_second"],
            "peak_rss_mib_per_rank": round(max(p["peak_rss_bytes"] for p in processes) / 2**20, 1),
            "peak_rss_mib_any_child": round(peak_kib / 1024, 1), "peak_rss_is_new_max": peak_kib > before,
            "optimizer_state_bytes_per_rank": max(p["optimizer_state_bytes"] for p in processes),
            "gradient_reduction_seconds": round(max(p["gradient_reduction_seconds"] for p in processes), 3),
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
    plan = [("fsdp", 2), ("ddp", 2), ("one", 1)]
    results = {name: [] for name, _ in plan}
    with tempfile.TemporaryDirectory(prefix="memtx-dist-bench-") as tmp:
        for r in range(a.rounds):
            # The 2-rank runs first: RUSAGE_CHILDREN's maximum only grows, so a run measured later reports its own
            # peak only when it is the larger one (peak_rss_is_new_max says which).
            for name, ranks in plan:
                results[name].append(run(cli, a.config, a.steps, a.batch // ranks, ranks, name,
                                         pathlib.Path(tmp) / f"{name}{r}"))
    summary = {}
    for name, runs in results.items():
        line = {k: v for k, v in runs[-1].items() if k != "losses"}
        line["tokens_per_second"] = statistics.median(x["tokens_per_second"] for x in runs)
        line["seconds"] = statistics.median(x["seconds"] for x in runs)
        summary[name] = line
        print(json.dumps({"bench": "dist_train", **line}))

    def worst(name):
        one, other = results["one"][-1]["losses"], results[name][-1]["losses"]
        return max(abs(one[s] - other[s]) / abs(one[s]) for s in one)

    print(json.dumps({"bench": "dist_train", "kind": "ratio",
                      "peak_rss_per_rank_ddp_over_one": summary["ddp"]["peak_rss_mib_per_rank"] / summary["one"]["peak_rss_mib_per_rank"],
                      "peak_rss_per_rank_fsdp_over_one": summary["fsdp"]["peak_rss_mib_per_rank"] / summary["one"]["peak_rss_mib_per_rank"],
                      "tokens_per_second_ddp_over_one": summary["ddp"]["tokens_per_second"] / summary["one"]["tokens_per_second"],
                      "tokens_per_second_fsdp_over_one": summary["fsdp"]["tokens_per_second"] / summary["one"]["tokens_per_second"],
                      "max_relative_loss_difference_ddp": worst("ddp"),
                      "max_relative_loss_difference_fsdp": worst("fsdp"),
                      "optimizer_state_bytes_per_rank_fsdp_over_ddp":
                          summary["fsdp"]["optimizer_state_bytes_per_rank"] / summary["ddp"]["optimizer_state_bytes_per_rank"],
                      "optimizer_state_bytes_one_process": summary["one"]["optimizer_state_bytes_per_rank"]}))

if __name__ == "__main__":
    main()
