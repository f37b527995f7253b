#!/usr/bin/env bash
# memtx-cli end to end: verify-config accepts every file in configs/ and rejects every file in
# tests/config/broken/ with the message its first line expects (`# expect: ...`); check-fixture passes on the
# Hugging Face fixtures and fails (exit 1) when the tolerance is broken; plugins lists causal and infinite.
# Usage: cli_test.sh CLI SOURCE_DIR FIXTURES_DIR
set -uo pipefail
cli=$1 src=$2 fixtures=$3
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

for f in "$src"/configs/*.yaml; do
  if out=$("$cli" verify-config --config-file "$f" 2>&1); then ok; else bad "verify-config rejected $f: $out"; fi
done
for f in "$src"/tests/config/broken/*.yaml; do
  expect=$(head -n1 "$f" | sed 's/^# expect: //')
  if out=$("$cli" verify-config --config-file "$f" 2>&1); then
    bad "verify-config accepted $f"
  elif [[ "$out" != *"$expect"* ]]; then
    bad "$f: expected '$expect' in: $out"
  else ok; fi
done
# overrides are checked like file values
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --set attention.n_kv_group=3 2>&1); then
  bad "n_kv_group=3 accepted"
elif [[ "$out" != *"n_kv_group"* ]]; then bad "n_kv_group message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --set model.hiden_dim=3 2>&1); then
  bad "misspelt override accepted"
elif [[ "$out" != *"model.hidden_dim"* ]]; then bad "override suggestion: $out"; else ok; fi
if out=$("$cli" verify-config --config-file /nonexistent.yaml 2>&1); then bad "missing file accepted";
elif [[ "$out" != *"NOT_FOUND"*"/nonexistent.yaml"* ]]; then bad "missing file message: $out"; else ok; fi

# A list override keeps its commas (cxxopts must not split repeated option values).
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --set "attention.attention_list=[causal, infinite]" --dump 2>&1) \
   && [[ "$out" == *"attention_list: [causal, infinite]"* ]]; then ok; else bad "list override: $out"; fi

out=$("$cli" plugins 2>&1)
for v in "variant causal" "variant infinite" "attention.use_qk_norm" "attention.attn_logit_softcapping"; do
  [[ "$out" == *"$v"* ]] && ok || bad "plugins output lacks '$v'"
done

for name in qwen2-tiny llama-tiny mamba-tiny deepseekv3-mla-tiny; do
  dir="$fixtures/hf/$name"
  [ -d "$dir" ] || { echo "skip: no $dir"; continue; }
  if out=$("$cli" check-fixture "$dir" 2>&1) && [[ "$out" == *PASS* ]]; then ok; else bad "check-fixture $name: $out"; fi
  echo "$out"
done
# A model whose reference outputs were tampered with must fail with exit code 1.
if [ -d "$fixtures/hf/llama-tiny" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp "$fixtures"/hf/llama-tiny/{config.json,io.safetensors} "$tmp"/
  python3 - "$fixtures/hf/llama-tiny/model.safetensors" "$tmp/model.safetensors" <<'PY'
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
begin = header["model.norm.weight"]["data_offsets"][0] + 8 + n
struct.pack_into("<f", data, begin, 3.0)  # change one weight of the final norm
open(sys.argv[2], "wb").write(data)
PY
  "$cli" check-fixture "$tmp" >"$tmp/out" 2>&1; rc=$?
  [ $rc -eq 1 ] && grep -q FAIL "$tmp/out" && ok || bad "tampered weights: rc=$rc $(cat "$tmp/out")"
fi
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
