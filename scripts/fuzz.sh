#!/usr/bin/env bash
# Builds memtx's libFuzzer targets (fuzz/: config, safetensors, tokenizer_json, sentencepiece, trainer_state,
# hf_config) into build-fuzz/ with clang, AddressSanitizer (LeakSanitizer included) and UBSan, then runs them.
#   scripts/fuzz.sh smoke [seconds]         CI: replays every input of fuzz/regressions/<target>/, then fuzzes each
#                                           target for `seconds` (default 30; two targets at a time) from its seed
#                                           corpus. Fails when any target crashes, leaks, hits UB, a timeout or
#                                           the memory limit; the input is left in build-fuzz/artifacts/<target>/.
#   scripts/fuzz.sh long [seconds] [jobs]   fuzzes each target in turn for `seconds` (default 600) with -jobs and
#                                           -workers = jobs (default 1), at nice 19; what it finds goes to
#                                           fuzz/crashes/<target>/ (not committed); prints each target's
#                                           executions, exec/s and crashes.
#   scripts/fuzz.sh build                   only builds.
# FUZZ_TARGETS="config safetensors" limits the targets; FUZZ_BUILD_DIR replaces build-fuzz/ (relative to the
# repository root or absolute). The corpus a run grows is kept in <build folder>/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

mode=${1:-smoke}
all_targets=(config safetensors tokenizer_json sentencepiece trainer_state hf_config)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"
build=${FUZZ_BUILD_DIR:-build-fuzz}

# The longest input each target is given: the shipped BPE fixture is 27 kB; the rest are small documents.
max_len() {
  case $1 in
    tokenizer_json) echo 32768 ;;
    safetensors | sentencepiece) echo 16384 ;;
    hf_config) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

# Options of every run: a 10 s timeout per input and 2 GiB of memory are failures, not waits.
fuzz_options() {
  local t=$1
  echo "-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=$(max_len "$t") -print_final_stats=1" \
    "-dict=fuzz/dict/$t.dict"
}

# ASan with leak detection, UBSan printing the stack; both stop at the first error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

build_targets() {
  if ! command -v clang++ >/dev/null; then
    echo "scripts/fuzz.sh: clang++ not found; the fuzz targets need clang with libFuzzer (Debian: apt-get install clang)" >&2
    exit 1
  fi
  cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  ninja -C "$build" ${FUZZ_BUILD_JOBS:+-j "$FUZZ_BUILD_JOBS"} | grep -v '^\[' || true
  for t in "${targets[@]}"; do
    [ -x "$build/${t}_fuzz" ] || { echo "scripts/fuzz.sh: $build/${t}_fuzz was not built" >&2; exit 1; }
  done
}

# Every saved input of fuzz/regressions/<target>/ runs once; any crash fails.
replay_regressions() {
  local t=$1 dir=fuzz/regressions/$1
  [ -d "$dir" ] || return 0
  local files=("$dir"/*)
  [ -e "${files[0]}" ] || return 0
  # shellcheck disable=SC2046
  "$build/${t}_fuzz" $(fuzz_options "$t") -runs=1 "${files[@]}" >"$build/logs/$t-regressions.log" 2>&1 || {
    echo "FAIL $t: a regression input crashes again (log: $build/logs/$t-regressions.log)"
    tail -n 30 "$build/logs/$t-regressions.log"
    return 1
  }
  echo "ok   $t: ${#files[@]} regression input(s) replayed"
}

# One smoke run: the seed corpus, then mutations for $2 seconds.
smoke_target() {
  local t=$1 seconds=$2
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  # shellcheck disable=SC2046
  if "$build/${t}_fuzz" $(fuzz_options "$t") -max_total_time="$seconds" -artifact_prefix="$build/artifacts/$t/" \
      "$build/corpus/$t" "fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1; then
    echo "ok   $t: $(summary "$build/logs/$t.log")"
  else
    echo "FAIL $t: $(grep -m1 -E 'ERROR: |==memtx fuzz finding==|runtime error' "$build/logs/$t.log" || echo 'see the log')"
    echo "     input: $(ls "$build/artifacts/$t"/* 2>/dev/null | head -n 1); log: $build/logs/$t.log"
    tail -n 40 "$build/logs/$t.log"
    return 1
  fi
}

# "N executions, M exec/s" from the final statistics of one or more libFuzzer logs.
summary() {
  awk '/stat::number_of_executed_units/ {n += $2} /stat::average_exec_per_sec/ {r += $2}
       END {printf "%d executions, %d exec/s", n, r}' "$@"
}

smoke() {
  local seconds=${1:-30} parallel=2 failed=0 pids=() t
  mkdir -p "$build/logs"
  for t in "${targets[@]}"; do replay_regressions "$t" || failed=1; done
  for t in "${targets[@]}"; do
    smoke_target "$t" "$seconds" &
    pids+=($!)
    if ((${#pids[@]} >= parallel)); then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  if ((failed)); then
    echo "fuzz smoke: FAILED (each failing input belongs in fuzz/regressions/<target>/ once fixed)"
    return 1
  fi
  echo "fuzz smoke: ${#targets[@]} targets clean"
}

long() {
  local seconds=${1:-600} jobs=${2:-1} root bin t
  root=$(pwd)
  bin=$(cd "$build" && pwd)
  for t in "${targets[@]}"; do
    local logs="$build/logs/long-$t" crashes="fuzz/crashes/$t"
    rm -rf "$logs"
    mkdir -p "$logs" "$crashes" "$build/corpus/$t"
    local parallel=()
    ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
    # With -jobs, libFuzzer writes each job's fuzz-<n>.log into the current folder: run in the log folder.
    # shellcheck disable=SC2046
    (cd "$logs" && exec nice -n 19 "$bin/${t}_fuzz" $(fuzz_options "$t" | sed "s|-dict=|-dict=$root/|") \
      "${parallel[@]}" -max_total_time="$seconds" -artifact_prefix="$root/$crashes/" \
      "$bin/corpus/$t" "$root/fuzz/corpus/$t" >"$t.log" 2>&1) || true
    local found
    found=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    echo "$t: $(summary "$logs"/*.log), $found crash(es) in $crashes/"
  done
}

case $mode in
  build) build_targets ;;
  smoke) build_targets; smoke "${2:-30}" ;;
  long) build_targets; long "${2:-600}" "${3:-1}" ;;
  *) echo "usage: scripts/fuzz.sh smoke [seconds] | long [seconds] [jobs] | build" >&2; exit 2 ;;
esac
