#!/usr/bin/env bash
# bench/run_session_memory.sh: is a streaming session's memory bounded? Runs session_memory_bench for 8k and
# 64k tokens (separate processes, so each peak RSS is its own), prints both JSON lines and a "ratio" line:
# peak_rss_kib(64k) / peak_rss_kib(8k), what streaming added to each process's resident size once its model was
# built (peak_rss_kib - rss_kib_start), and the state bytes of both. Exits 1 when the ratio exceeds
# 1 + TOLERANCE (default 0.05: flat within 5%) or the state bytes differ.
# Builds nothing: needs build/bin/session_memory_bench and build/plugins (targets session_memory_bench,
# memtx_plugins).
# Usage: bench/run_session_memory.sh [piece (64)] [threads (1)]
# Environment: MEMTX_BUILD_DIR (default <repo>/build), SHORT (default 8192), LONG (default 65536), TOLERANCE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${MEMTX_BUILD_DIR:-$here/../build}"
bench="$build/bin/session_memory_bench"
[[ -x "$bench" ]] || { echo "run_session_memory.sh: $bench not found (ninja -C build session_memory_bench)" >&2; exit 2; }
piece="${1:-64}" threads="${2:-1}"
short="${SHORT:-8192}" long="${LONG:-65536}" tolerance="${TOLERANCE:-0.05}"

a=$("$bench" "$short" "$piece" "$threads")
echo "$a"
b=$("$bench" "$long" "$piece" "$threads")
echo "$b"
python3 - "$a" "$b" "$tolerance" <<'PY'
import json, sys
a, b, tol = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
ratio = b["peak_rss_kib"] / a["peak_rss_kib"]
ok = ratio <= 1 + tol and a["state_bytes"] == b["state_bytes"]
print(json.dumps({"ratio": round(ratio, 4), "short_tokens": a["tokens"], "long_tokens": b["tokens"],
                  "short_peak_rss_kib": a["peak_rss_kib"], "long_peak_rss_kib": b["peak_rss_kib"],
                  "short_streaming_kib": a["peak_rss_kib"] - a["rss_kib_start"],
                  "long_streaming_kib": b["peak_rss_kib"] - b["rss_kib_start"],
                  "short_state_bytes": a["state_bytes"], "long_state_bytes": b["state_bytes"],
                  "tolerance": tol, "flat": ok}))
print(f"peak RSS {a['peak_rss_kib'] / 1024:.1f} MiB for {a['tokens']} tokens, {b['peak_rss_kib'] / 1024:.1f} MiB for "
      f"{b['tokens']} tokens: ratio {ratio:.4f} ({'flat' if ok else 'NOT flat'} within {tol:.0%}); streaming added "
      f"{(a['peak_rss_kib'] - a['rss_kib_start']) / 1024:.1f} / {(b['peak_rss_kib'] - b['rss_kib_start']) / 1024:.1f} "
      f"MiB; state {a['state_bytes']} / {b['state_bytes']} bytes")
sys.exit(0 if ok else 1)
PY
