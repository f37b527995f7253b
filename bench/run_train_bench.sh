#!/usr/bin/env bash
# bench/run_train_bench.sh: memtx's CPU training step against the same model in PyTorch, side by side.
# Builds nothing: needs build/bin/train_step_bench and build/plugins (targets memtx, memtx_plugins,
# train_step_bench) and a python with torch: the pinned wheel in .venv/ (scripts/install-deps.sh), the LibTorch
# memtx links.
# For each thread count (default: all cores, then 1) and each round, runs train_step_bench, then
# train_step_peer.py with --match (every setting and the parameter count taken from memtx's run), both with
# OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads and at::set_num_threads / torch.set_num_threads(threads).
# Prints both JSON lines, a "ratio" line per round (memtx tokens/s / PyTorch tokens/s; cpu_time_ratio = PyTorch
# CPU ms / memtx CPU ms per step, the same comparison by CPU time, steadier when other programs load the
# cores; loss agreement; load average) and a "summary" line per thread count (medians over rounds), then a
# readable line each. The losses of the two programs agree when they compute the same thing (same weights,
# same batches: see train_step_peer.py).
# memtx retains freed host memory (train/host_memory.hpp; MEMTX_MALLOC=default runs it with --default-malloc
# instead, glibc's defaults); the peer runs with glibc's
# defaults, as a Python user would, unless PEER_MALLOC=retained gives it the same settings through glibc's
# environment variables (then the two differ only in what runs the ops).
# NICE=-5 (for example) runs both programs at that niceness, to measure on a machine busy with other work.
# Usage: bench/run_train_bench.sh [train_step_bench options, e.g. --steps 20 --explicit-attention]
# Environment: MEMTX_BUILD_DIR (default <repo>/build), PYTHON (default <repo>/.venv/bin/python),
#   THREADS (space-separated list, default "$(nproc) 1"), ROUNDS (default 3), PEER_MALLOC (default|retained),
#   MEMTX_MALLOC (retained|default), NICE (niceness for both programs, default: unchanged).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${MEMTX_BUILD_DIR:-$here/../build}"
bench="$build/bin/train_step_bench"
peer="$here/train_step_peer.py"
PYTHON="${PYTHON:-$here/../.venv/bin/python}"
if [[ ! -x "$bench" ]]; then
  echo "run_train_bench: $bench not found; build it: ninja -C $build memtx memtx_plugins train_step_bench" >&2
  exit 1
fi
lib="$(ls "$build"/lib/libmemtx.so 2>/dev/null || true)"
if [[ -n "$lib" && "$lib" -nt "$bench" ]]; then
  echo "run_train_bench: warning: $lib is newer than $bench; rebuild train_step_bench if memtx's headers changed" >&2
fi
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "run_train_bench: $PYTHON has no torch (run scripts/install-deps.sh, or set PYTHON)" >&2
  exit 1
fi
cores="$(nproc)"
threads_list="${THREADS:-$cores 1}"
[[ "$cores" == 1 && -z "${THREADS:-}" ]] && threads_list="1"
rounds="${ROUNDS:-3}"
peer_env=()
if [[ "${PEER_MALLOC:-default}" == retained ]]; then
  peer_env=(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647)
fi
memtx_args=()
if [[ "${MEMTX_MALLOC:-retained}" == default ]]; then memtx_args=(--default-malloc); fi
nice_cmd=()
if [[ -n "${NICE:-}" ]]; then nice_cmd=(nice -n "$NICE"); fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for t in $threads_list; do
  : >"$tmp/ratios-$t"
  for ((r = 1; r <= rounds; ++r)); do
    load_before="$(cut -d' ' -f1 /proc/loadavg)"
    env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" ${nice_cmd[@]+"${nice_cmd[@]}"} "$bench" --threads "$t" \
      ${memtx_args[@]+"${memtx_args[@]}"} "$@" \
      >"$tmp/memtx.json" 2>"$tmp/memtx.err" || { cat "$tmp/memtx.err" >&2; exit 1; }
    env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" ${peer_env[@]+"${peer_env[@]}"} ${nice_cmd[@]+"${nice_cmd[@]}"} \
      "$PYTHON" "$peer" --match "$tmp/memtx.json" >"$tmp/peer.json" 2>"$tmp/peer.err" ||
      { cat "$tmp/peer.err" >&2; exit 1; }
    load_after="$(cut -d' ' -f1 /proc/loadavg)"
    cat "$tmp/memtx.json" "$tmp/peer.json"
    "$PYTHON" - "$tmp/memtx.json" "$tmp/peer.json" "$t" "$r" "$load_before" "$load_after" "${PEER_MALLOC:-default}" \
      "${NICE:-0}" <<'EOF' | tee -a "$tmp/ratios-$t"
import json, sys
m, p = (json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[1:3])
print(json.dumps({"bench": "train_step", "kind": "ratio", "threads": int(sys.argv[3]), "round": int(sys.argv[4]),
                  "memtx_tokens_per_s": m["tokens_per_s"], "pytorch_tokens_per_s": p["tokens_per_s"],
                  "ratio": m["tokens_per_s"] / p["tokens_per_s"],
                  "memtx_ms_per_step": m["ms_per_step"], "pytorch_ms_per_step": p["ms_per_step"],
                  "memtx_cpu_ms_per_step": m["cpu_ms_per_step"], "pytorch_cpu_ms_per_step": p["cpu_ms_per_step"],
                  "cpu_time_ratio": p["cpu_ms_per_step"] / m["cpu_ms_per_step"],
                  "memtx_page_faults_per_step": m["page_faults_per_step"],
                  "pytorch_page_faults_per_step": p["page_faults_per_step"],
                  "memtx_host_memory": m["host_memory"], "peer_malloc": sys.argv[7], "nice": int(sys.argv[8]),
                  "loss_first": [m["loss_first"], p["loss_first"]], "loss_last": [m["loss_last"], p["loss_last"]],
                  "losses_agree": abs(m["loss_first"] - p["loss_first"]) < 1e-4 and abs(m["loss_last"] - p["loss_last"]) < 1e-3,
                  "load1": [float(sys.argv[5]), float(sys.argv[6])]}))
EOF
  done
  "$PYTHON" - "$tmp/ratios-$t" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
ratios = [r["ratio"] for r in rows]
s = {"bench": "train_step", "kind": "summary", "threads": rows[0]["threads"], "rounds": len(rows),
     "memtx_tokens_per_s": statistics.median(r["memtx_tokens_per_s"] for r in rows),
     "pytorch_tokens_per_s": statistics.median(r["pytorch_tokens_per_s"] for r in rows),
     "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
     "cpu_time_ratio_median": statistics.median(r["cpu_time_ratio"] for r in rows),
     "memtx_host_memory": rows[0]["memtx_host_memory"], "peer_malloc": rows[0]["peer_malloc"], "nice": rows[0]["nice"],
     "losses_agree": all(r["losses_agree"] for r in rows),
     "load1_max": max(max(r["load1"]) for r in rows)}
print(json.dumps(s))
print(f"train step, {s['threads']} thread(s): memtx {s['memtx_tokens_per_s']:.0f} tokens/s, PyTorch "
      f"{s['pytorch_tokens_per_s']:.0f} tokens/s, memtx/PyTorch = {s['ratio_median']:.3f} (median of {len(rows)}, "
      f"{s['ratio_min']:.3f}..{s['ratio_max']:.3f}); by CPU time {s['cpu_time_ratio_median']:.3f}; "
      f"losses agree: {s['losses_agree']}; max load {s['load1_max']}; peer malloc {s['peer_malloc']}",
      file=sys.stderr)
EOF
done
