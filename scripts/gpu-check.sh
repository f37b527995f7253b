#!/usr/bin/env bash
# scripts/gpu-check.sh: the GPU check in one command, for a machine with a CUDA GPU and no package access
# (about 8 minutes on one H100, the build included). Runs from anywhere; works in the repository root.
#   1. Build dependencies: when DEBS (default .deps/debs) holds .deb files (saved where Debian's packages are
#      reachable by shared/scripts/fetch-build-debs.sh), unpacks them with dpkg -x (or ar + tar) into
#      .deps/prefix, once per set of files, and adds .deps/prefix/usr to CMAKE_PREFIX_PATH and its library folder
#      to LD_LIBRARY_PATH.
#   2. Build: configures BUILD_DIR (default build-gpu/; Release, Ninja, MEMTX_CUDA=ON, CUDA code for the visible
#      GPU's architecture, else 80;90) against the LibTorch of $PYTHON's torch (default: python3, or .venv/bin/python
#      when python3 has no torch) and builds only what the check runs: the plugins, test_gpu (when tests/gpu has
#      sources), train_step_bench and ssm_scan_bench, with ninja -j$(nproc).
#   3. Tests: ctest -L gpu -j 4 (CTEST_JOBS) in BUILD_DIR; one JSON line per test (passed, failed or skipped) and
#      a summary line.
#   4. Benchmarks (each run under a timeout, and skipped once the time budget is spent), JSON lines, in this order:
#      - the selective scan: memtx's ssm_scan_bench --device cuda against the PyTorch loop transformers runs
#        (bench/gpu_scan_peer.py), the ratio per length with the target >= 300x as pass|fail;
#      - the 124M GPT (12 x 768, vocab 50304, LayerNorm, GELU MLP, RoPE, tied embeddings; batch 16 x 1024, bf16
#        autocast, AdamW): memtx (train_step_bench --device cuda) against PyTorch eager and torch.compile
#        (bench/gpu_train_peer.py), the ratios and the MFU, with the targets (>= 1.1x torch.compile, >= 46% MFU)
#        as "status": pass|fail;
#      - one 6 x 512 model (vocab 32000, SwiGLU 1408, RMSNorm, 8 heads) per variant: causal (peers: the GPT of
#        gpu_train_peer.py eager and compiled, transformers' Llama), mla (transformers' DeepSeek-V3, dense layers),
#        ssm (mixer-only blocks as Mamba, conv 4, dt rank 32; peer: transformers' Mamba with its torch scan, on
#        batch 2), infini (segments of 256), linear and co4 (no peer).
#      A last line {"check": "gpu-check", "kind": "summary", ...} gathers the targets and the key numbers.
# Without a CUDA device (a CPU machine) the build still runs, ctest reports the GPU tests as skipped, and each
# benchmark prints a {"bench": ..., "skipped": "no CUDA device"} line; the exit status is 0.
# Exit status: 0 when everything ran (a missed performance target is reported, not an error); 1 when the build,
# a GPU test or a memtx benchmark program failed; 2 for a usage error.
# Every JSON line goes to stdout and to BUILD_DIR/gpu-check/results.jsonl (and to --results FILE); progress and
# errors go to stderr; each program's own output is kept in BUILD_DIR/gpu-check/. Where a machine is lent for
# commands of at most 10 minutes, one call fits (--budget 480 leaves room for the timeouts); or split it:
# --build-only in one call, --skip-build in the next on the same machine.
#
# Usage: scripts/gpu-check.sh [--build-only] [--skip-build] [--quick] [--debs DIR] [--build-dir DIR] [-j N]
#                             [--budget SECONDS] [--results FILE] [--targets "T1 T2 ..."]
#   --build-only  steps 1 and 2 only          --skip-build  steps 3 and 4 on an existing BUILD_DIR
#   --quick       fewer timed steps, no torch.compile peer for the 6 x 512 models
#   --budget S    time for the whole check (default 480 s); benchmarks that would start past it are skipped
#   --targets     build these ninja targets instead and stop there (to try the build half on a slow machine;
#                 the check itself needs the default set)
# Environment: PYTHON, CUDA_ARCH (e.g. 90), JOBS, CTEST_JOBS, DEBS, BUILD_DIR, BUDGET_S, CUDACXX; ccache is used
# when present. GPU_CHECK_RUN_WITHOUT_CUDA=1 starts the benchmark programs even without a GPU (each then prints its
# own "skipped" line): a test of this script's plumbing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$SECONDS

build_only=0 skip_build=0 quick=0
debs="${DEBS:-.deps/debs}"
build_dir="${BUILD_DIR:-build-gpu}"
jobs="${JOBS:-$(nproc)}"
budget="${BUDGET_S:-480}"
results_copy=""
target_override="${TARGETS:-}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; }
log() { echo "gpu-check: $*" >&2; }
while (($#)); do
  case "$1" in
    --build-only) build_only=1 ;;
    --skip-build) skip_build=1 ;;
    --quick) quick=1 ;;
    --debs) debs="${2:?--debs needs a folder}"; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a folder}"; shift ;;
    -j) jobs="${2:?-j needs a number}"; shift ;;
    -j*) jobs="${1#-j}" ;;
    --budget) budget="${2:?--budget needs seconds}"; shift ;;
    --results) results_copy="${2:?--results needs a file}"; shift ;;
    --targets) target_override="${2:?--targets needs a list}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) log "unknown option '$1'"; usage; exit 2 ;;
  esac
  shift
done
if ((build_only && skip_build)); then log "--build-only and --skip-build exclude each other"; exit 2; fi
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -ge 1 ]] || { log "-j wants a positive number, got '$jobs'"; exit 2; }
[[ "$budget" =~ ^[0-9]+$ ]] || { log "--budget wants whole seconds, got '$budget'"; exit 2; }
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
case "$debs" in /*) ;; *) debs="$root/$debs" ;; esac

work="$build_dir/gpu-check"
mkdir -p "$work"
results="$work/results.jsonl"
: >"$results"
if [[ -n "$results_copy" ]]; then mkdir -p "$(dirname "$results_copy")"; : >"$results_copy"; fi
status=0

# One JSON line to stdout and the results files.
emit() {
  printf '%s\n' "$1"
  printf '%s\n' "$1" >>"$results"
  if [[ -n "$results_copy" ]]; then printf '%s\n' "$1" >>"$results_copy"; fi
}
# Every JSON line of a file, emitted.
emit_file() {
  local line
  while IFS= read -r line; do
    [[ "$line" == "{"* ]] && emit "$line"
  done <"$1"
  return 0
}
# Text made safe inside a JSON string: one line, printable ASCII, no quotes or backslashes.
json_text() { tr '\n\t' '  ' | tr -cd '[:print:]' | tr '"\\' "''"; }
die() {
  log "error: $*"
  emit "$(printf '{"check": "gpu-check", "error": "%s"}' "$(printf '%s' "$*" | json_text)")"
  exit 1
}

# --- Python with torch ------------------------------------------------------------------------------------
if [[ -n "${PYTHON:-}" ]]; then
  py="$PYTHON"
elif python3 -c "import torch" 2>/dev/null; then
  py=python3
elif [[ -x "$root/.venv/bin/python" ]] && "$root/.venv/bin/python" -c "import torch" 2>/dev/null; then
  py="$root/.venv/bin/python"
else
  die "no Python with torch: python3 has none and there is no .venv/bin/python (set PYTHON=/path/to/python)"
fi
"$py" -c "import torch" 2>/dev/null || die "$py cannot import torch (set PYTHON to a Python with torch 2.x)"
has_cuda="$("$py" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)"
log "python: $py (torch $("$py" -c 'import torch; print(torch.__version__)')), CUDA device: $([[ $has_cuda == 1 ]] && echo yes || echo no)"

# --- 1. the carried build dependencies --------------------------------------------------------------------
prefix="$root/.deps/prefix"
extra_prefix=""
shopt -s nullglob
deb_files=("$debs"/*.deb)
shopt -u nullglob
if ((${#deb_files[@]})); then
  listing="$(for f in "${deb_files[@]}"; do basename "$f"; done | sort)"
  if [[ ! -f "$prefix/.unpacked" || "$(cat "$prefix/.unpacked")" != "$listing" ]]; then
    log "unpacking ${#deb_files[@]} .deb files from $debs into $prefix"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    for f in "${deb_files[@]}"; do
      if command -v dpkg-deb >/dev/null; then
        dpkg-deb -x "$f" "$prefix" || die "dpkg-deb -x $f failed"
      elif command -v ar >/dev/null; then
        tmp="$(mktemp -d)"
        (cd "$tmp" && ar x "$f" && tar -xf data.tar.* -C "$prefix") || die "unpacking $f with ar and tar failed"
        rm -rf "$tmp"
      else
        die "neither dpkg-deb nor ar is available to unpack $f"
      fi
    done
    printf '%s\n' "$listing" >"$prefix/.unpacked"
  fi
  extra_prefix="$prefix/usr"
  export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
elif [[ -d "$prefix/usr" && -f "$prefix/.unpacked" ]]; then
  extra_prefix="$prefix/usr"   # unpacked by an earlier run
  export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# --- 2. configure and build --------------------------------------------------------------------------------
targets=(memtx_plugins train_step_bench ssm_scan_bench)
have_test_gpu=0
if [[ -n "$target_override" ]]; then read -r -a targets <<<"$target_override"; fi
if ((!skip_build)); then
  torch_prefix="$("$py" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')" ||
    die "$py could not tell torch's CMake prefix"
  command -v cmake >/dev/null || die "cmake not found on PATH"
  command -v ninja >/dev/null || die "ninja not found on PATH"
  if [[ -z "${CUDACXX:-}" ]] && ! command -v nvcc >/dev/null; then
    if [[ -x /usr/local/cuda/bin/nvcc ]]; then
      export CUDACXX=/usr/local/cuda/bin/nvcc
    else
      die "no nvcc: the CUDA toolkit 13 is needed to build memtx's CUDA code against a CUDA LibTorch (put nvcc on PATH or set CUDACXX)"
    fi
  fi
  source "$root/scripts/env.sh"  # nvcc on PATH where the toolkit is in /usr/local/cuda; ccache settings
  arch="${CUDA_ARCH:-}"
  if [[ -z "$arch" && "$has_cuda" == 1 ]]; then
    arch="$("$py" -c 'import torch; a, b = torch.cuda.get_device_capability(); print(f"{a}{b}")' 2>/dev/null || true)"
  fi
  cmake_args=(-S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEMTX_CUDA=ON
    "-DCMAKE_PREFIX_PATH=$torch_prefix${extra_prefix:+;$extra_prefix}")
  if [[ -n "$arch" ]]; then
    cmake_args+=("-DCMAKE_CUDA_ARCHITECTURES=$arch")
    export TORCH_CUDA_ARCH_LIST="${arch:0:${#arch}-1}.${arch: -1}"
  fi
  log "configuring $build_dir (CUDA architectures: ${arch:-the default 80;90})"
  if ! cmake "${cmake_args[@]}" >"$work/configure.log" 2>&1; then
    tail -n 30 "$work/configure.log" >&2
    die "cmake configure failed (log: $work/configure.log)"
  fi
  if [[ -z "$target_override" ]] && ninja -C "$build_dir" -t targets all 2>/dev/null | grep '^test_gpu:' >/dev/null; then
    targets+=(test_gpu)
    have_test_gpu=1
  fi
  log "building ${targets[*]} with ninja -j$jobs"
  build_start=$SECONDS
  if ! ninja -C "$build_dir" -j "$jobs" "${targets[@]}" >"$work/build.log" 2>&1; then
    grep -E -m 20 "error|Error" "$work/build.log" >&2 || true
    tail -n 20 "$work/build.log" >&2
    die "build failed (log: $work/build.log)"
  fi
  emit "$(printf '{"check": "build", "build_dir": "%s", "targets": "%s", "seconds": %d, "cuda_architectures": "%s", "status": "pass"}' \
    "$build_dir" "${targets[*]}" $((SECONDS - build_start)) "${arch:-80;90}")"
else
  [[ -f "$build_dir/build.ninja" ]] || die "--skip-build: $build_dir is not configured (run without --skip-build first)"
  [[ -x "$build_dir/test_gpu" || -x "$build_dir/tests/test_gpu" ]] && have_test_gpu=1
fi
if ((build_only)) || [[ -n "$target_override" ]]; then
  log "build done in $((SECONDS - start)) s (${target_override:+--targets, }--build-only)"
  exit 0
fi
bin="$build_dir/bin"
for b in train_step_bench ssm_scan_bench; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing (build it: drop --skip-build)"
done
export MEMTX_PLUGIN_PATH=""   # the build tree's plugins only

# --- 3. the GPU tests ---------------------------------------------------------------------------------------
if ((have_test_gpu)); then
  log "ctest -L gpu"
  rm -f "$work/ctest-gpu.xml"
  set +e
  (cd "$build_dir" && timeout 240 ctest -L gpu -j "${CTEST_JOBS:-4}" --timeout 180 --output-on-failure \
    --output-junit "$work/ctest-gpu.xml") >"$work/ctest.log" 2>&1
  ctest_rc=$?
  set -e
  "$py" bench/gpu_check_report.py junit "$work/ctest-gpu.xml" >"$work/ctest.jsonl"
  emit_file "$work/ctest.jsonl"
  if ((ctest_rc != 0)); then
    tail -n 40 "$work/ctest.log" >&2
    log "ctest -L gpu failed (exit $ctest_rc; log: $work/ctest.log)"
    status=1
  fi
else
  emit '{"check": "ctest -L gpu", "skipped": "no test_gpu target (tests/gpu has no sources)"}'
fi

# --- 4. the benchmarks --------------------------------------------------------------------------------------
variants=(causal mla ssm infini linear co4)
if [[ "$has_cuda" != 1 && "${GPU_CHECK_RUN_WITHOUT_CUDA:-0}" != 1 ]]; then
  emit '{"bench": "gpt124m", "skipped": "no CUDA device"}'
  emit '{"bench": "ssm_scan", "skipped": "no CUDA device"}'
  for v in "${variants[@]}"; do emit "{\"bench\": \"variant\", \"variant\": \"$v\", \"skipped\": \"no CUDA device\"}"; done
  "$py" bench/gpu_check_report.py final "$results" --seconds $((SECONDS - start)) >"$work/final.jsonl"
  emit_file "$work/final.jsonl"
  log "no CUDA device: benchmarks skipped ($((SECONDS - start)) s)"
  exit "$status"
fi

if ((quick)); then big=(--warmup 2 --steps 5) small=(--warmup 2 --steps 4) slow=(--warmup 1 --steps 2)
else big=(--warmup 3 --steps 10) small=(--warmup 2 --steps 6) slow=(--warmup 1 --steps 3); fi

# run NAME LIMIT OUTFILE COMMAND...: the command under a timeout (LIMIT, cut to the budget left), stdout into
# OUTFILE, stderr into OUTFILE.err; its JSON lines are emitted. Returns 1 (with an error line) when it failed, 3
# (with a skipped line) when the budget is spent.
run() {
  local name="$1" limit="$2" out="$3"
  shift 3
  local left=$((budget - (SECONDS - start)))
  if ((left < 15)); then
    local line="{\"bench\": \"$name\", \"skipped\": \"time budget of ${budget} s spent\"}"
    emit "$line"
    printf '%s\n' "$line" >"$out"
    return 3
  fi
  ((limit > left)) && limit=$left
  log "$name: $(basename "$1") ${*:2} (limit ${limit} s)"
  local rc=0
  timeout --kill-after=10 "$limit" "$@" >"$out" 2>"$out.err" || rc=$?
  emit_file "$out"
  if ((rc != 0)); then
    local why="exit $rc"
    ((rc == 124 || rc == 137)) && why="timed out after ${limit} s"
    tail -n 5 "$out.err" >&2
    local line
    line="$(printf '{"bench": "%s", "error": "%s", "stderr_tail": "%s"}' "$name" "$why" \
      "$(tail -n 3 "$out.err" | json_text | cut -c1-400)")"
    emit "$line"
    printf '%s\n' "$line" >>"$out"   # the report reads the error, not an earlier partial line
    return 1
  fi
  return 0
}
# --match FILE when FILE holds a memtx result (the peer then takes memtx's shapes and checks the parameter count).
set_match() {
  match=()
  if [[ -s "$1" ]] && grep '"tokens_per_s"' "$1" >/dev/null; then match=(--match "$1"); fi
}
mtx="$bin/train_step_bench"
peer=(env PYTHONUNBUFFERED=1 "$py" bench/gpu_train_peer.py)

# The selective scan: memtx's CUDA scan against the torch loop.
scan_args=(--memtx-bench "$bin/ssm_scan_bench" --memtx-field chunked_ms --memtx-timeout 150)
((quick)) && scan_args+=(--repeats 2)
run ssm_scan 200 "$work/scan.json" env PYTHONUNBUFFERED=1 "$py" bench/gpu_scan_peer.py "${scan_args[@]}" || true
if grep -q '"memtx_error"' "$work/scan.json" 2>/dev/null; then status=1; fi

# The 124M GPT: memtx, then PyTorch eager and torch.compile on the same shapes.
gpt=(--batch 16 --seq 1024 --hidden 768 --layers 12 --heads 12 --intermediate 3072 --vocab 50304
  --mlp gelu --norm layer --precision bf16)
rc=0
run gpt124m-memtx 150 "$work/gpt124m-memtx.json" "$mtx" --device cuda "${gpt[@]}" "${big[@]}" --label gpt124m || rc=$?
((rc == 1)) && status=1
set_match "$work/gpt124m-memtx.json"
run gpt124m-eager 120 "$work/gpt124m-eager.json" "${peer[@]}" --model gpt "${gpt[@]}" "${big[@]}" "${match[@]}" --label gpt124m || true
run gpt124m-compile 240 "$work/gpt124m-compile.json" "${peer[@]}" --model gpt --compile "${gpt[@]}" "${big[@]}" "${match[@]}" --label gpt124m || true
"$py" bench/gpu_check_report.py gpt124m "$work/gpt124m-memtx.json" "$work/gpt124m-eager.json" \
  "$work/gpt124m-compile.json" >"$work/gpt124m.jsonl"
emit_file "$work/gpt124m.jsonl"

# One 6 x 512 model per variant, with the peers that exist.
base=(--batch 16 --seq 1024 --hidden 512 --layers 6 --heads 8 --intermediate 1408 --vocab 32000
  --mlp swiglu --norm rms --precision bf16)
for v in "${variants[@]}"; do
  extra=() steps=("${small[@]}")
  case "$v" in
    infini) extra=(--segment-length 256) ;;
    ssm) extra=(--no-mlp --set attention.ssm_conv_kernel_size=4 --set attention.ssm_dt_rank=32 --set attention.ssm_d_state=16
      --set attention.ssm_mamba_expand=2) steps=("${slow[@]}") ;;
  esac
  out="$work/v-$v-memtx.json"
  rc=0
  run "variant-$v-memtx" 90 "$out" "$mtx" --device cuda "${base[@]}" --variant "$v" "${extra[@]}" "${steps[@]}" \
    --label "6x512-$v" || rc=$?
  ((rc == 1)) && status=1
  ((rc == 3)) && continue
  peers=()
  set_match "$out"
  case "$v" in
    causal)
      run "variant-causal-eager" 60 "$work/v-causal-eager.json" "${peer[@]}" --model gpt "${base[@]}" "${small[@]}" \
        "${match[@]}" --label 6x512-causal || true
      peers+=("$work/v-causal-eager.json")
      if ((!quick)); then
        run "variant-causal-compile" 150 "$work/v-causal-compile.json" "${peer[@]}" --model gpt --compile "${base[@]}" \
          "${small[@]}" "${match[@]}" --label 6x512-causal || true
        peers+=("$work/v-causal-compile.json")
      fi
      run "variant-causal-llama" 90 "$work/v-causal-llama.json" "${peer[@]}" --model llama "${base[@]}" "${small[@]}" \
        --label 6x512-causal || true
      peers+=("$work/v-causal-llama.json") ;;
    mla)
      run "variant-mla-deepseek" 90 "$work/v-mla-deepseek.json" "${peer[@]}" --model deepseek "${base[@]}" "${small[@]}" \
        --mla-rotary-dim 32 --label 6x512-mla || true
      peers+=("$work/v-mla-deepseek.json") ;;
    ssm)
      run "variant-ssm-mamba" 120 "$work/v-ssm-mamba.json" "${peer[@]}" --model mamba "${base[@]}" --batch 2 --warmup 1 \
        --steps 2 --ssm-conv 4 --ssm-dt-rank 32 --ssm-d-state 16 --ssm-expand 2 --label 6x512-ssm || true
      peers+=("$work/v-ssm-mamba.json") ;;
  esac
  "$py" bench/gpu_check_report.py variant "$v" "$out" "${peers[@]}" >"$work/v-$v.jsonl"
  emit_file "$work/v-$v.jsonl"
done

"$py" bench/gpu_check_report.py final "$results" --seconds $((SECONDS - start)) >"$work/final.jsonl"
emit_file "$work/final.jsonl"
log "done in $((SECONDS - start)) s (exit $status)"
exit "$status"
