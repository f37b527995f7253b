#!/usr/bin/env bash
# memtx-cli end to end: verify-config accepts every file in configs/ and rejects every file in
# tests/config/broken/ with the message its first line expects (`# expect: ...`); check-fixture passes on the
# Hugging Face fixtures and fails (exit 1) when the tolerance is broken; plugins lists causal and infinite;
# the seeds' config flags (--attention_list causal infinite, --use_qk_norm, ...); plot on a small metrics file;
# passkey (grid, JSON, heat map); train (checkpoints, SIGINT, resume, variant mixes, the --nproc_per_node launcher);
# session (streaming); damaged model folders (a flipped byte, NaN weights) and text holding NUL bytes.
# Usage: cli_test.sh CLI SOURCE_DIR FIXTURES_DIR
set -uo pipefail
cli=$1 src=$2 fixtures=$3
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# (a config over a base folder that is not here - a downloaded model, or one another config makes - is refused
# for that folder alone: it passed every other check)
for f in "$src"/configs/*.yaml; do
  if out=$("$cli" verify-config --config-file "$f" 2>&1); then ok;
  elif [[ "$out" == *"[NOT_FOUND] model.base_model_name: 'models/"*"' is not a folder"* ||
          "$out" == *"[NOT_FOUND] model.base_model_name: 'outputs/"*"' is not a folder"* ]]; then ok;
  else bad "verify-config rejected $f: $out"; fi
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

# verify-config refuses what model creation and training would: unknown variants, keys no layer reads, keys
# whose feature is off, unsupported training settings.
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --attention_list causal nosuch 2>&1); then bad "unknown variant accepted"
elif [[ "$out" != *"unknown attention variant 'nosuch'"* ]]; then bad "unknown variant message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --set attention.ssm_d_state=8 2>&1); then bad "ignored ssm key accepted"
elif [[ "$out" != *"attention.ssm_d_state is set (8) but no layer of this model reads it"*"ssm"* ]]; then
  bad "ignored key message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --early_stopping_patience 5 2>&1); then bad "ignored patience accepted"
elif [[ "$out" != *"training.early_stopping_patience"*"training.early_stopping is true"* ]]; then
  bad "conditional key message: $out"; else ok; fi
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --distributed_strategy fsdp 2>&1); then
  bad "fsdp FULL_SHARD accepted"
elif [[ "$out" != *"training.fsdp_sharding_strategy: FULL_SHARD"*"SHARD_GRAD_OP"* ]]; then bad "FULL_SHARD message: $out"; else ok; fi

# A list override keeps its commas (cxxopts must not split repeated option values).
if out=$("$cli" verify-config --config-file "$src/configs/tiny_causal.yaml" --set "attention.attention_list=[causal, infinite]" --dump 2>&1) \
   && [[ "$out" == *"attention_list: [causal, infinite]"* ]]; then ok; else bad "list override: $out"; fi

# The seeds' flags: every config key is also a flag (bare name when unique, dotted always), applied after
# the file in command-line order together with --set.
tiny="$src/configs/tiny_causal.yaml"
if out=$("$cli" verify-config --config-file "$tiny" --attention_list causal infinite infini --n_kv_group 1 --use_qk_norm \
     --hidden_dim=128 --model.num_layers 2 --max_steps 70 --segment_length 32 --dump 2>&1) \
   && [[ "$out" == *"attention_list: [causal, infinite, infini]"* && "$out" == *"n_kv_group: 1"* && "$out" == *"use_qk_norm: true"* \
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
  # A NaN weight is named as such (not a JSON null the report reader chokes on).
  python3 - "$tmp/model.safetensors" <<'PY'
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
struct.pack_into("<f", data, header["model.norm.weight"]["data_offsets"][0] + 8 + n, float("nan"))
open(sys.argv[1], "wb").write(data)
PY
  out=$("$cli" check-fixture "$tmp" 2>&1); rc=$?
  [[ $rc -eq 1 && "$out" == *"[IO]"*"tensor 'norm.weight' holds 1 NaN"* ]] && ok || bad "NaN weights in check-fixture: rc=$rc $out"
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
# streaming: the text printed piece by piece equals the JSON text; --repetition_penalty changes a repeating
# greedy continuation; --max_time stops early (stop_reason max_time); bad values are refused naming the option.
"$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --temperature 0 >"$infer_dir/streamed" 2>/dev/null
"$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --temperature 0 --json >"$infer_dir/streamed.json" 2>/dev/null
"$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 16 --temperature 0 --repetition_penalty 1000000 --json \
  >"$infer_dir/penalized.json" 2>/dev/null
"$cli" generate "${icfg[@]}" --prompt "Hello" --max_new_tokens 500 --max_time 0.000001 --min_p 0.05 --json \
  >"$infer_dir/timed.json" 2>/dev/null
python3 - "$infer_dir" <<'PY' && ok || bad "streamed generate / --repetition_penalty / --max_time: $(cat "$infer_dir/streamed.json" "$infer_dir/penalized.json" "$infer_dir/timed.json")"
import json, sys
d = sys.argv[1]
streamed = open(f"{d}/streamed", "rb").read()
text = json.load(open(f"{d}/streamed.json"))["text"]
assert streamed == text.encode() + b"\n", (streamed, text)
penalized = json.load(open(f"{d}/penalized.json"))
assert penalized["text"] != text and penalized["stop_reason"] == "max_new_tokens"
timed = json.load(open(f"{d}/timed.json"))
assert timed["stop_reason"] == "max_time" and len(timed["text"].encode("utf-8", "replace")) <= 12, timed
PY
for bad_flag in "--repetition_penalty 0:repetition_penalty" "--min_p 2:min_p" "--max_time -1:max_time"; do
  if out=$("$cli" generate "${icfg[@]}" --prompt "Hi" ${bad_flag%%:*} 2>&1); then bad "${bad_flag%%:*} accepted"
  elif [[ "$out" != *"INVALID_ARGUMENT"*"${bad_flag##*:}"* ]]; then bad "${bad_flag%%:*} message: $out"; else ok; fi
done
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
  # --init-from: a run that starts from the final model's weights and trains at learning rate 0 ends with them.
  if out=$("$cli" train "${icfg[@]}" "${idata[@]}" --set training.max_steps=1 --set training.warmup_steps=0 \
       --set training.base_model_lr=0 --set "training.output_dir=$infer_dir/again" --init-from "$infer_dir/run/final_model" \
       --quiet 2>&1); then
    a=$("$cli" eval --model "$infer_dir/run/final_model" --json 2>/dev/null)
    b=$("$cli" eval --model "$infer_dir/again/final_model" --json 2>/dev/null)
    python3 -c 'import json,sys; sys.exit(0 if abs(json.loads(sys.argv[1])["loss"] - json.loads(sys.argv[2])["loss"]) < 1e-6 else 1)' "$a" "$b" \
      && ok || bad "--init-from: eval '$a' vs '$b'"
  else
    bad "train --init-from: $out"
  fi
  if out=$("$cli" train "${icfg[@]}" --set model.hidden_dim=64 --set model.intermediate_dim=128 \
       --set "training.output_dir=$infer_dir/other" --init-from "$infer_dir/run/final_model" --quiet 2>&1); then
    bad "--init-from with another hidden_dim accepted"
  elif [[ "$out" != *"weights do not fit"*"has shape"* ]]; then bad "--init-from structure message: $out"; else ok; fi
  # A model key that adds or reshapes no weight is the run's: the continued model is built with it.
  if out=$("$cli" train "${icfg[@]}" "${idata[@]}" --set model.dropout=0.1 --set training.max_steps=1 --set training.warmup_steps=0 \
       --set "training.output_dir=$infer_dir/other" --init-from "$infer_dir/run/final_model" --quiet 2>&1); then
    grep -Eq '^  dropout: 0\.1$' "$infer_dir/other/final_model/config.yaml" && ok || bad "--init-from: model.dropout not applied"
  else
    bad "--init-from with another model.dropout: $out"
  fi
  if out=$("$cli" train "${icfg[@]}" --init-from "$infer_dir/run/final_model" --resume latest 2>&1); then bad "--init-from with --resume accepted"
  elif [[ "$out" != *"not both"* ]]; then bad "--init-from with --resume message: $out"; else ok; fi
  # Damaged model folders: a flipped byte is refused by the manifest; NaN weights (in a folder without a
  # manifest, as older saves are) are refused naming the tensor, by generate and eval alike; a model whose
  # weights are all 0 generates id 0, a NUL byte, which reaches stdout whole.
  for kind in flip nan zero; do
    cp -r "$infer_dir/run/final_model" "$infer_dir/$kind"
    python3 - "$infer_dir/$kind" "$kind" <<'PY'
import json, os, struct, sys
folder, kind = sys.argv[1], sys.argv[2]
path = os.path.join(folder, "model.safetensors")
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
if kind == "flip":
    data[-3] ^= 0x10
else:
    os.remove(os.path.join(folder, "manifest.json"))
    if kind == "nan":
        name = sorted(k for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32")[0]
        struct.pack_into("<f", data, 8 + n + header[name]["data_offsets"][0], float("nan"))
        open(os.path.join(folder, "nan_tensor"), "w").write(name)
    else:
        data[8 + n:] = bytes(len(data) - 8 - n)
open(path, "wb").write(data)
PY
  done
  if out=$("$cli" generate --model "$infer_dir/flip" --prompt "Hi" 2>&1); then bad "generate on a flipped byte accepted"
  elif [[ "$out" != *"[IO]"*"model.safetensors: content digest"*"manifest.json"* ]]; then bad "flipped byte message: $out"; else ok; fi
  nan_tensor=$(cat "$infer_dir/nan/nan_tensor")
  for cmd in "generate --temperature 0" "eval"; do
    out=$("$cli" $cmd --model "$infer_dir/nan" 2>&1); rc=$?
    [[ $rc -eq 1 && "$out" == *"[IO]"*"tensor '$nan_tensor' holds 1 NaN"* ]] && ok || bad "$cmd on NaN weights: rc=$rc $out"
  done
  "$cli" generate --model "$infer_dir/zero" --prompt "Hi" --max_new_tokens 4 --temperature 0 --ignore_eos >"$infer_dir/zero.out" 2>/dev/null
  [ "$(od -An -tx1 "$infer_dir/zero.out" | tr -d ' \n')" == "000000000a" ] && ok \
    || bad "generate of NUL bytes: $(od -An -tx1 "$infer_dir/zero.out")"
else
  bad "train for the eval test: $out"
fi
rm -rf "$infer_dir"

# passkey: a lengths x depths grid with a fresh infini model: a line per cell and the accuracy grid, a JSON
# report with every cell (the depth-0 needle at token 0, in segment 0), a heat map SVG; bad options fail.
pk_dir=$(mktemp -d)
pcfg=(--config "$src/configs/tiny_causal.yaml" --set model.hidden_dim=32 --set model.intermediate_dim=64
      --set model.num_layers=2 --attention_list causal infini --segment_length 32)
if out=$("$cli" passkey "${pcfg[@]}" --lengths 128 256 --depths 0 0.5 1 --trials 2 --json "$pk_dir/pk.json" \
     --svg "$pk_dir/pk.svg" 2>&1); then ok; else bad "passkey: $out"; fi
[[ "$out" == *"accuracy (rows: depth, columns: length)"* && "$out" == *"overall "*"(0/12)"* ]] && ok || bad "passkey table: $out"
python3 - "$pk_dir/pk.json" <<'PY' && ok || bad "passkey json: $(head -c 600 "$pk_dir/pk.json")"
import json, sys
r = json.load(open(sys.argv[1]))
cells = r["cells"]
assert [(c["length"], c["depth"]) for c in cells] == [(128, 0), (128, 0.5), (128, 1), (256, 0), (256, 0.5), (256, 1)]
assert all(c["trials"] == 2 and len(c["results"]) == 2 for c in cells)
assert cells[0]["first_needle_begin"] == 0 and cells[0]["first_needle_segment"] == 0
assert cells[5]["first_needle_segment"] >= 4
assert r["segment_length"] == 32 and r["chunk_tokens"] == 32 and r["lengths"] == [128, 256]
PY
for want in '<rect class="cell"' ">prompt length (tokens)</text>" ">needle depth" ">256</text>" ">0.5</text>" "</svg>"; do
  grep -q -- "$want" "$pk_dir/pk.svg" && ok || bad "pk.svg lacks $want"
done
[ "$(grep -c '<rect class="cell"' "$pk_dir/pk.svg")" -eq 6 ] && ok || bad "pk.svg should have 6 cells"
if out=$("$cli" passkey "${pcfg[@]}" --lengths 128 --depths 1.5 2>&1); then bad "depth 1.5 accepted"
elif [[ "$out" != *"outside [0, 1]"* ]]; then bad "depth 1.5 message: $out"; else ok; fi
if out=$("$cli" passkey "${pcfg[@]}" --lengths 40 --depths 0 2>&1); then bad "length 40 accepted"
elif [[ "$out" != *"INVALID_ARGUMENT"*"length 40"* ]]; then bad "length 40 message: $out"; else ok; fi
rm -rf "$pk_dir"

# train: a short run writes checkpoints, final_model and one metrics record per step; Ctrl-C (SIGINT) stops a run
# after writing a checkpoint (exit 130) and --resume latest continues it; the seeds' --attention_list mixes variants.
tr_dir=$(mktemp -d)
small=(--config "$src/configs/tiny_causal.yaml" --hidden_dim 32 --intermediate_dim 64 --num_layers 2 --max_length 32
       --batch_size 2 --logging_steps 1 --save_steps 2 --warmup_steps 1)
if out=$("$cli" train "${small[@]}" --max_steps 3 --output_dir "$tr_dir/a" --quiet 2>&1) \
   && [[ "$out" == *"status:          completed after 3 steps"* && -f "$tr_dir/a/final_model/model.safetensors" \
      && -d "$tr_dir/a/checkpoint-2" && -d "$tr_dir/a/checkpoint-3" ]] \
   && [ "$(grep -c '"type":"train"' "$tr_dir/a/metrics.jsonl")" -eq 3 ]; then ok; else bad "train: $out"; fi
"$cli" train "${small[@]}" --max_steps 100000 --save_steps 100000 --output_dir "$tr_dir/b" >"$tr_dir/b.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '"type":"train"' "$tr_dir/b/metrics.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"; code=$?
latest=$(cat "$tr_dir/b/latest" 2>/dev/null)
if [ "$code" -eq 130 ] && [[ "$latest" == checkpoint-* && -f "$tr_dir/b/$latest/trainer_state.json" ]] \
   && grep -q "cancelled" "$tr_dir/b.log"; then ok; else bad "SIGINT: exit $code, latest '$latest': $(tail -3 "$tr_dir/b.log")"; fi
stopped=${latest#checkpoint-}
if out=$("$cli" train "${small[@]}" --max_steps $((stopped + 2)) --save_steps 100000 --output_dir "$tr_dir/b" \
         --resume latest --quiet 2>&1) && [[ "$out" == *"completed after $((stopped + 2)) steps"* ]]; then ok
else bad "resume after SIGINT: $out"; fi
# --nproc_per_node: refusals name their cause; the config is checked once, before any worker starts; a worker runs
# this command without the launch options (--master_port left in would make it fail otherwise) and the first
# failure's code is returned; Ctrl-C reaches the worker, which writes its checkpoint. Two workers of batch 1
# train to the losses of one process of batch 2 (fp32: 1e-5 relative), and only rank 0 writes the metrics.
if out=$("$cli" train "${small[@]}" --nproc_per_node 0 2>&1); then bad "--nproc_per_node 0 accepted"
elif [[ "$out" != *"--nproc_per_node must be between 1 and 64, got 0"* ]]; then bad "--nproc_per_node 0 message: $out"; else ok; fi
if out=$(WORLD_SIZE=2 "$cli" train "${small[@]}" --nproc_per_node=2 2>&1); then bad "nested launch accepted"
elif [[ "$out" != *"WORLD_SIZE is already set (2)"* ]]; then bad "nested launch message: $out"; else ok; fi
if out=$("$cli" train "${small[@]}" --master_port 29500 2>&1); then bad "--master_port without --nproc_per_node accepted"
elif [[ "$out" != *"--master_port goes with --nproc_per_node"* ]]; then bad "--master_port message: $out"; else ok; fi
if out=$("$cli" train "${small[@]}" --nproc_per_node 2 --n_kv_group 3 2>&1); then bad "launch with a bad config accepted"
elif [[ "$out" != *"n_kv_group"* || "$out" == *"started"* ]]; then bad "launch with a bad config: $out"; else ok; fi
out=$("$cli" train "${small[@]}" --nproc_per_node 2 --master_port=29517 --init-from "$tr_dir/none" 2>&1); code=$?
[[ $code -eq 1 && "$out" == *"memtx-cli: started 2 workers on 127.0.0.1:29517"* && "$out" == *"NOT_FOUND"*"$tr_dir/none"* \
   && "$out" == *"memtx-cli: worker RANK "[01]" exited with status 1"* && "$out" != *"--master_port goes"* ]] \
  && ok || bad "failing workers: exit $code: $out"
"$cli" train "${small[@]}" --nproc_per_node 1 --max_steps 100000 --save_steps 100000 --output_dir "$tr_dir/e" \
  >"$tr_dir/e.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '"type":"train"' "$tr_dir/e/metrics.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"; code=$?
latest=$(cat "$tr_dir/e/latest" 2>/dev/null)
if [ "$code" -eq 130 ] && [[ "$latest" == checkpoint-* && -f "$tr_dir/e/$latest/trainer_state.json" ]] \
   && grep -q "started 1 worker on 127.0.0.1:" "$tr_dir/e.log" && grep -q "SIGINT: passed on" "$tr_dir/e.log" \
   && grep -q "cancelled" "$tr_dir/e.log" && ! grep -q "RANK 0" "$tr_dir/e.log"; then ok
else bad "SIGINT through the launcher: exit $code, latest '$latest': $(tail -4 "$tr_dir/e.log")"; fi
out=$("$cli" train --help 2>&1)
[[ "$out" == *"--nproc_per_node"* && "$out" == *"--master_port"* ]] && ok || bad "train --help lacks the launch options"
"$cli" train "${small[@]}" --batch_size 2 --max_steps 6 --mixed_precision no --output_dir "$tr_dir/one" --quiet \
  >"$tr_dir/one.log" 2>&1
# training.num_gpus 2 is two processes on this node: memtx-cli starts them (here sharding the optimizer state).
if out=$("$cli" train "${small[@]}" --batch_size 1 --max_steps 6 --mixed_precision no --output_dir "$tr_dir/two" \
         --num_gpus 2 --distributed_strategy fsdp --fsdp_sharding_strategy SHARD_GRAD_OP 2>&1) \
   && [[ "$out" == *"memtx-cli: started 2 workers"* && "$out" == *"rank 1 of 2, optimizer state"* ]] \
   && python3 - "$tr_dir/one/metrics.jsonl" "$tr_dir/two/metrics.jsonl" <<'PY'
import json, sys
def losses(path):
    return {r["step"]: r["loss"] for r in map(json.loads, open(path)) if r.get("type") == "train"}
one, two = losses(sys.argv[1]), losses(sys.argv[2])
assert len(one) == 6 and one.keys() == two.keys(), (one, two)
worst = max(abs(one[k] - two[k]) / abs(one[k]) for k in one)
assert worst < 1e-5, worst
PY
then ok; else bad "num_gpus 2 (2 workers, fsdp) vs 1 process of the doubled batch: $out"; fi
# The same under PyTorch's own launcher: torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and MASTER_* for each worker.
torchrun="$src/.venv/bin/torchrun"
if [[ ! -x "$torchrun" ]]; then bad "no torchrun at $torchrun (the pinned torch wheel brings it; scripts/install-deps.sh)"
elif out=$("$torchrun" --standalone --nproc_per_node 2 --no-python "$cli" train "${small[@]}" --batch_size 1 \
             --max_steps 6 --mixed_precision no --output_dir "$tr_dir/torchrun" --quiet 2>&1) \
   && python3 - "$tr_dir/one/metrics.jsonl" "$tr_dir/torchrun/metrics.jsonl" <<'PY'
import json, sys
def losses(path):
    return {r["step"]: r["loss"] for r in map(json.loads, open(path)) if r.get("type") == "train"}
one, two = losses(sys.argv[1]), losses(sys.argv[2])
assert len(one) == 6 and one.keys() == two.keys(), (one, two)
assert max(abs(one[k] - two[k]) / abs(one[k]) for k in one) < 1e-5
PY
then ok; else bad "torchrun --nproc_per_node 2 vs 1 process of the doubled batch: $out"; fi
if out=$("$cli" train "${small[@]}" --attention_list causal infini ssm --segment_length 8 --max_steps 2 \
         --output_dir "$tr_dir/c" --quiet 2>&1) && [[ "$out" == *"completed after 2 steps"* ]]; then ok
else bad "train --attention_list causal infini ssm: $out"; fi
if out=$("$cli" train "${small[@]}" --max_steps 2 --log_to_wandb --output_dir "$tr_dir/d" 2>&1); then bad "wandb accepted"
elif [[ "$out" != *"training.log_to_wandb"* ]]; then bad "wandb message: $out"; else ok; fi
rm -rf "$tr_dir"

# session: stdin lines are fed, /generate continues the stream (greedy equals `generate` on the same prompt),
# /state, /reset; --file feeds a file in pieces: with segments the state bytes stay constant at segment ends,
# and the mean loss does not depend on the piece size; bad commands and options fail with their cause.
ss_dir=$(mktemp -d)
scfg=(--config "$src/configs/tiny_causal.yaml" --set model.hidden_dim=32 --set model.intermediate_dim=64
      --attention_list causal infini --segment_length 8)
out=$(printf 'Hello world\n/state\n/generate 8 --temperature 0 --ignore_eos\n/state\n/reset\n/state\n' \
      | "$cli" session "${scfg[@]}" 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *"fed 11 tokens, position 11"*"position 11, state bytes "*"position 19, state bytes "*"reset, position 0"*"position 0, state bytes "* ]] \
  && ok || bad "session interactive: rc=$rc $out"
expected=$("$cli" generate "${scfg[@]}" --prompt "Hello" --max_new_tokens 12 --temperature 0 2>/dev/null)
got=$(printf 'Hello\n/generate 12 --temperature 0\n' | "$cli" session "${scfg[@]}" 2>/dev/null | tail -n +2)
[[ -n "$expected" && "$got" == "$expected" ]] && ok || bad "session /generate vs generate: '$got' / '$expected'"
out=$(printf 'Hi\n/bogus\n/generate\n/generate 2 --top_k\n/state\n' | "$cli" session "${scfg[@]}" 2>&1); rc=$?
[[ $rc -eq 1 && "$out" == *"unknown command '/bogus'"* && "$out" == *"/generate needs the number of tokens"* \
   && "$out" == *"--top_k expects a value"* && "$out" == *"position 2, state bytes"* ]] && ok || bad "session errors: rc=$rc $out"
# session --chat: ChatML without a template (the byte tokenizer: <|im_start|> and <|im_end|> are one id each);
# with --max_new_tokens 0 the replies are empty, so the positions count exactly what was fed: turn 1 feeds
# "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" (21 ids), turn 2 only the new text (23 ids).
out=$(printf 'Hi\n/state\nYo\n/state\n/reset\n/state\n' | "$cli" session "${scfg[@]}" --chat --max_new_tokens 0 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *"chat format chatml (default)"*"position 21, "*"position 44, "*"new conversation"*"position 0, "* ]] \
  && ok || bad "session --chat positions: rc=$rc $out"
out=$(printf 'Hello there\nAnd again\n' | "$cli" session "${scfg[@]}" --chat --max_new_tokens 6 --temperature 0 \
      --system "Be brief." --repetition_penalty 1.2 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *"chat format chatml"* ]] && ok || bad "session --chat replies: rc=$rc $out"
# A tokenizer folder with a template of another family: memtx's template engine renders it; one the engine
# refuses ({% include %}) falls back to ChatML with a warning naming the file and the reason.
mkdir -p "$ss_dir/tok"
if [ -f "$fixtures/tokenizer-bpe/tokenizer.json" ]; then
  cp "$fixtures/tokenizer-bpe/tokenizer.json" "$ss_dir/tok/"
  printf '{"eos_token": "</s>", "chat_template": "{%% for m in messages %%}[INST] {{ m.content }} [/INST]{%% endfor %%}"}' >"$ss_dir/tok/tokenizer_config.json"
  out=$(printf 'Hi\nAgain\n' | "$cli" session "${scfg[@]}" --set model.vocab_size=600 --set "model.tokenizer=$ss_dir/tok" \
        --chat --max_new_tokens 2 2>&1); rc=$?
  [[ $rc -eq 0 && "$out" == *"chat format template ($ss_dir/tok/tokenizer_config.json)"* && "$out" != *"warning: the chat template"* ]] \
    && ok || bad "session --chat with a Mistral-style template: rc=$rc $out"
  printf '{"chat_template": "{%% include \\"x\\" %%}[INST] {{ m.content }} [/INST]"}' >"$ss_dir/tok/tokenizer_config.json"
  out=$(printf 'Hi\n' | "$cli" session "${scfg[@]}" --set model.vocab_size=600 --set "model.tokenizer=$ss_dir/tok" \
        --chat --max_new_tokens 2 2>&1); rc=$?
  [[ $rc -eq 0 && "$out" == *"warning: the chat template of $ss_dir/tok/tokenizer_config.json"*"include"*"using ChatML"* ]] \
    && ok || bad "session --chat with a template the engine refuses: rc=$rc $out"
fi
if out=$("$cli" session "${scfg[@]}" --max_new_tokens 3 2>&1 </dev/null); then bad "--max_new_tokens without --chat accepted"
elif [[ "$out" != *"--max_new_tokens goes with --chat"* ]]; then bad "--max_new_tokens without --chat message: $out"; else ok; fi
python3 -c "print('The quick brown fox jumps over the lazy dog. ' * 8, end='')" >"$ss_dir/text.txt"  # 360 bytes
"$cli" session "${scfg[@]}" --file "$ss_dir/text.txt" --piece 8 >"$ss_dir/p8" 2>&1
"$cli" session "${scfg[@]}" --file "$ss_dir/text.txt" --piece 7 >"$ss_dir/p7" 2>&1
"$cli" session "${scfg[@]}" --file "$ss_dir/text.txt" --piece 1000 >"$ss_dir/p1000" 2>&1
python3 - "$ss_dir" <<'PY' && ok || bad "session --file: $(tail -3 "$ss_dir/p8") / $(tail -2 "$ss_dir/p7")"
import sys
d = sys.argv[1]
def lines(name):
    rows = [l.split() for l in open(f"{d}/{name}")]
    pieces = [dict(zip(r[0::2], r[1::2])) for r in rows if r[0] == "position"]
    summary = dict(zip(rows[-1][0::2], rows[-1][1::2]))
    return pieces, summary
p8, s8 = lines("p8")
p7, s7 = lines("p7")
p1000, s1000 = lines("p1000")
assert len(p8) == 45 and p8[-1]["position"] == "360" and len(p7) == 52 and len(p1000) == 1
assert len({p["state_bytes"] for p in p8}) == 1, "state bytes change between segment ends"
assert int(p8[0]["state_bytes"]) > 0
assert s8["tokens"] == "360" and s8["predicted"] == "359"
losses = [float(s["mean_loss"]) for s in (s8, s7, s1000)]
assert max(losses) - min(losses) < 1e-5, losses
PY
# NUL bytes are text like any other: a stdin line and a file are fed whole (the byte tokenizer: one id per byte).
out=$(printf 'ab\0cd\n/state\n' | "$cli" session "${scfg[@]}" 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *"fed 5 tokens, position 5"* ]] && ok || bad "session line with a NUL byte: rc=$rc $out"
python3 -c "import sys; sys.stdout.buffer.write(b'abc\0' * 100)" >"$ss_dir/nul.txt"  # 400 bytes
out=$("$cli" session "${scfg[@]}" --file "$ss_dir/nul.txt" --piece 100 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *"tokens 400 predicted 399"* ]] && ok || bad "session --file with NUL bytes: rc=$rc $(tail -2 <<<"$out")"
if out=$("$cli" session "${scfg[@]}" --file "$ss_dir/none.txt" 2>&1); then bad "session missing file accepted"
elif [[ "$out" != *"cannot read the file"*"none.txt"* ]]; then bad "session missing file message: $out"; else ok; fi
if out=$("$cli" session "${scfg[@]}" --file "$ss_dir/text.txt" --piece 0 2>&1); then bad "session --piece 0 accepted"
elif [[ "$out" != *"--piece must be >= 1"* ]]; then bad "session --piece 0 message: $out"; else ok; fi
if out=$("$cli" session 2>&1 </dev/null); then bad "session without a model accepted"
elif [[ "$out" != *"a model is required"* ]]; then bad "session without a model message: $out"; else ok; fi
rm -rf "$ss_dir"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
