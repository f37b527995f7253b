#!/usr/bin/env bash
# memtx-cli end to end: verify-config accepts every file in configs/ and rejects every file in
# tests/config/broken/ with the message its first line expects (`# expect: ...`); check-fixture passes on the
# Hugging Face fixtures and fails (exit 1) when the tolerance is broken; plugins lists causal and infinite;
# the seeds' config flags (--attention_list causal infinite, --use_qk_norm, ...); plot on a small metrics file.
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

# The seeds' flags: every config key is also a flag (bare name when unique, dotted always), applied after
# the file in command-line order together with --set.
tiny="$src/configs/tiny_causal.yaml"
if out=$("$cli" verify-config --config-file "$tiny" --attention_list causal infinite --n_kv_group 1 --use_qk_norm \
     --hidden_dim=128 --model.num_layers 2 --max_steps 70 --segment_length 32 --dump 2>&1) \
   && [[ "$out" == *"attention_list: [causal, infinite]"* && "$out" == *"n_kv_group: 1"* && "$out" == *"use_qk_norm: true"* \
      && "$out" == *"hidden_dim: 128"* && "$out" == *"num_layers: 2"* && "$out" == *"max_steps: 70"* \
      && "$out" == *"segment_length: 32"* ]]; then ok; else bad "seed flags: $out"; fi
out=$("$cli" verify-config --config-file "$tiny" --use_qk_norm false --dump 2>&1)
[[ "$out" == *"use_qk_norm: false"* ]] && ok || bad "--use_qk_norm false: $out"
out=$("$cli" verify-config --config-file "$tiny" --set model.hidden_dim=64 --hidden_dim 128 --dump 2>&1)
[[ "$out" == *"hidden_dim: 128"* ]] && ok || bad "flag after --set must win: $out"
out=$("$cli" verify-config --config-file "$tiny" --hidden_dim 128 --set model.hidden_dim=64 --dump 2>&1)
[[ "$out" == *"hidden_dim: 64"* ]] && ok || bad "--set after a flag must win: $out"
if out=$("$cli" verify-config --config-file "$tiny" --hiden_dim 128 2>&1); then bad "misspelt flag accepted"
elif [[ "$out" != *"unknown option '--hiden_dim'"*"did you mean --hidden_dim"* ]]; then bad "misspelt flag message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$tiny" --n_kv_group 3 2>&1); then bad "--n_kv_group 3 accepted"
elif [[ "$out" != *"n_kv_group"* ]]; then bad "--n_kv_group 3 message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$tiny" --use_qk_norm 0 2>&1); then bad "--use_qk_norm 0 accepted"
elif [[ "$out" != *"use_qk_norm"* ]]; then bad "--use_qk_norm 0 message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$tiny" --hidden_dim 2>&1); then bad "value-less flag accepted"
elif [[ "$out" != *"expects a value"* ]]; then bad "value-less flag message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$tiny" stray 2>&1); then bad "stray word accepted"
elif [[ "$out" != *"unexpected argument 'stray'"* ]]; then bad "stray word message: $out"; else ok; fi
out=$("$cli" verify-config --help 2>&1)
[[ "$out" == *"--attention_list causal infini ssm"* ]] && ok || bad "verify-config --help lacks the config flags: $out"

# plot: a small metrics file -> loss.svg beside it; malformed lines and files without train records fail.
work=$(mktemp -d)
{
  echo '{"type":"config","note":"ignored"}'
  for s in 1 2 3 4 5 6 7 8 9 10; do
    echo "{\"type\":\"train\",\"step\":$s,\"epoch\":$(( s / 6 )),\"loss\":$(( 60 - 3 * s )).5,\"lr\":0.000$s,\"grad_norm\":1.0,\"tokens_per_second\":900,\"tokens\":$(( 64 * s )),\"elapsed\":$s}"
  done
  echo '{"type":"eval","step":5,"eval_loss":52.25,"eval_perplexity":1e22}'
  echo ''
  echo '{"type":"eval","step":10,"eval_loss":40.75,"eval_perplexity":1e17}'
} >"$work/metrics.jsonl"
if out=$("$cli" plot "$work/metrics.jsonl" 2>&1) && [ -s "$work/loss.svg" ]; then ok; else bad "plot: $out"; fi
svg=$(cat "$work/loss.svg" 2>/dev/null)
for want in "<polyline" ">train loss</text>" ">eval loss</text>" ">learning rate</text>" ">step</text>" ">epoch 1</text>" "</svg>"; do
  [[ "$svg" == *"$want"* ]] && ok || bad "loss.svg lacks '$want'"
done
[ "$(grep -c '<circle' "$work/loss.svg")" -ge 2 ] && ok || bad "loss.svg lacks the eval markers"
if out=$("$cli" plot "$work/metrics.jsonl" -o "$work/custom.svg" 2>&1) && [ -s "$work/custom.svg" ]; then ok; else bad "plot -o: $out"; fi
if command -v rsvg-convert >/dev/null; then
  if out=$("$cli" plot "$work/metrics.jsonl" -o "$work/p.svg" --png 2>&1) && [ -s "$work/p.png" ]; then ok; else bad "plot --png: $out"; fi
fi
if out=$(PATH=/nonexistent "$cli" plot "$work/metrics.jsonl" -o "$work/q.svg" --png 2>&1); then bad "--png without rsvg-convert succeeded"
elif [[ "$out" != *"rsvg-convert"* ]] || [ ! -s "$work/q.svg" ]; then bad "--png without rsvg-convert: $out"; else ok; fi
printf '{"type":"train","step":1,"loss":2.0}\n{"type":"train","step":2,"loss":1.9}\n{"type":"train", "step": 3, loss\n' >"$work/broken.jsonl"
if out=$("$cli" plot "$work/broken.jsonl" 2>&1); then bad "malformed metrics accepted"
elif [[ "$out" != *"broken.jsonl:3:"* ]]; then bad "malformed metrics message: $out"; else ok; fi
printf '{"type":"train","step":1,"loss":"high"}\n' >"$work/typed.jsonl"
if out=$("$cli" plot "$work/typed.jsonl" 2>&1); then bad "string loss accepted"
elif [[ "$out" != *"typed.jsonl:1:"*"loss"* ]]; then bad "string loss message: $out"; else ok; fi
printf '{"type":"eval","step":1,"eval_loss":2.0}\n' >"$work/evalonly.jsonl"
if out=$("$cli" plot "$work/evalonly.jsonl" 2>&1); then bad "metrics without train records accepted"
elif [[ "$out" != *"no train records"* ]]; then bad "no-train message: $out"; else ok; fi
if out=$("$cli" plot "$work/none.jsonl" 2>&1); then bad "missing metrics accepted"
elif [[ "$out" != *"none.jsonl"* ]]; then bad "missing metrics message: $out"; else ok; fi
rm -rf "$work"

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
# generate and eval: greedy text is deterministic and sampled text depends on the seed only; --stop ends
# generation; eval reports the loss the trainer logged for the same model and data; errors name the cause.
infer_dir=$(mktemp -d)
icfg=(--config "$src/configs/tiny_causal.yaml" --set model.hidden_dim=32 --set model.intermediate_dim=64)
idata=(--set "training.dataset_name=synthetic:passkey?length=128&examples=40" --set training.eval_split=test
       --set training.eval_fraction=0.1 --set training.max_length=128 --set training.batch_size=2)
a=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 12 --temperature 0 --json 2>/dev/null); rc_a=$?
b=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 12 --temperature 0 --json 2>/dev/null)
[[ $rc_a -eq 0 && "$a" == "$b" && "$a" == *'"prompt": "Hello"'* && "$a" == *'"text": '* ]] && ok || bad "greedy generate: $a / $b"
# (stdout only: a plugin warning on stderr must not make two runs differ)
s1=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --seed 1 --top_k 50 --top_p 0.95 --json 2>/dev/null)
s1b=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --seed 1 --top_k 50 --top_p 0.95 --json 2>/dev/null)
s2=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --seed 2 --top_k 50 --top_p 0.95 --json 2>/dev/null)
[[ "$s1" == "$s1b" && "$s1" != "$s2" ]] && ok || bad "seeded generate: $s1 / $s1b / $s2"
stops=(); for id in $(seq 0 258); do stops+=(--stop "$id"); done  # every id the byte tokenizer has
out=$("$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 12 "${stops[@]}" --json 2>&1)
[[ "$out" == *'"text": ""'* ]] && ok || bad "--stop on every id must give no text: $out"
if out=$("$cli" generate "${icfg[@]}" --prompt "Hi" --temperature -1 2>&1); then bad "temperature -1 accepted"
elif [[ "$out" != *"INVALID_ARGUMENT"*"temperature"* ]]; then bad "temperature -1 message: $out"; else ok; fi
if out=$("$cli" generate --model /nonexistent-model --prompt "Hi" 2>&1); then bad "missing model folder accepted"
elif [[ "$out" != *"NOT_FOUND"*"/nonexistent-model"* ]]; then bad "missing model folder message: $out"; else ok; fi
if out=$("$cli" generate --prompt "Hi" 2>&1); then bad "generate without a model accepted"
elif [[ "$out" != *"--model DIR, --hf DIR or --config"* ]]; then bad "no-model message: $out"; else ok; fi
if [ -d "$fixtures/hf/llama-tiny" ]; then
  if out=$("$cli" generate --hf "$fixtures/hf/llama-tiny" --prompt "Hi" --max_new_tokens 4 --temperature 0 2>&1); then ok
  else bad "generate --hf: $out"; fi
fi
if out=$("$cli" eval "${icfg[@]}" 2>&1); then bad "eval without an eval split accepted"
elif [[ "$out" != *"NOT_FOUND"*"training.eval_split"* ]]; then bad "eval without eval split message: $out"; else ok; fi
out=$("$cli" eval "${icfg[@]}" "${idata[@]}" 2>&1)
[[ "$out" == *"split test"*"loss "*"perplexity "*"(512 tokens, 4 sequences, 2 batches"* ]] && ok || bad "eval: $out"
out=$("$cli" eval "${icfg[@]}" "${idata[@]}" --set training.eval_max_batches=1 --json 2>&1)
[[ "$out" == *'"batches": 1'* && "$out" == *'"tokens": 256'* ]] && ok || bad "eval --json with eval_max_batches: $out"
# A short training run: eval of its final model and checkpoint gives the eval loss the trainer logged.
if out=$("$cli" train "${icfg[@]}" "${idata[@]}" --set training.max_steps=3 --set training.warmup_steps=1 \
     --set "training.output_dir=$infer_dir/run" --quiet 2>&1) && [ -d "$infer_dir/run/final_model" ]; then
  logged=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "eval_loss" in l][-1]["eval_loss"])' "$infer_dir/run/metrics.jsonl")
  for m in final_model checkpoint-3; do
    out=$("$cli" eval --model "$infer_dir/run/$m" --json 2>/dev/null)
    got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["loss"])' "$out" 2>/dev/null)
    python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-5 else 1)' "$got" "$logged" 2>/dev/null \
      && ok || bad "eval --model $m: loss '$got', the trainer logged '$logged' ($out)"
  done
  out=$("$cli" eval --model "$infer_dir/run/final_model" --set training.eval_max_batches=1 --json 2>&1)
  [[ "$out" == *'"batches": 1'* ]] && ok || bad "eval --model with --set: $out"
  a=$("$cli" generate --model "$infer_dir/run/final_model" --prompt "The pass key is" --max_new_tokens 8 --temperature 0 2>/dev/null); rc_a=$?
  b=$("$cli" generate --model "$infer_dir/run/checkpoint-3" --prompt "The pass key is" --max_new_tokens 8 --temperature 0 2>/dev/null)
  [[ $rc_a -eq 0 && "$a" == "$b" ]] && ok || bad "generate --model final_model vs checkpoint: '$a' / '$b'"
  if out=$("$cli" generate --model "$infer_dir/run/final_model" --set model.hidden_dim=64 2>&1); then bad "--set with --model accepted"
  elif [[ "$out" != *"keeps its own config"* ]]; then bad "--set with --model message: $out"; else ok; fi
else
  bad "train for the eval test: $out"
fi
rm -rf "$infer_dir"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
