#!/usr/bin/env bash
# README command one: installs what is needed, builds, and runs the main job on the embedded default:
# trains configs/cpu_small.yaml (a 4 x 256 causal model, byte tokenizer, built-in associative-recall data: no
# files, no network) on the CPU, then evaluates the final model, generates a sample, draws the loss and
# learning-rate curves, and exports it as a Hugging Face folder that transformers loads with the same logits;
# then trains a small Infini-attention model on the passkey task (two stages) and draws its retrieval heat map
# from 1x to 256x its training length (256 to 65536 tokens) and off the segment grid; the recall model's
# exact-match rate over 128 held-out queries is printed. Also checks memtx against
# the Hugging Face fixtures when ../shared is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cli=build/bin/memtx-cli
out=outputs/cpu_small
$cli build-info
rm -rf "$out"
$cli train --config configs/cpu_small.yaml --output_dir "$out"
$cli eval --model "$out/final_model" --config configs/cpu_small.yaml
# The recall answers alone: one 95-token example per window, only " NNN" and the end token counted; exact match
# is the share of the 128 held-out queries answered right token for token (what greedy generation reproduces).
$cli eval --model "$out/final_model" --config configs/cpu_small.yaml \
  --set training.training_mode=instruction_finetuning --set training.max_length=94
$cli generate --model "$out/final_model" --temperature 0 --max_new_tokens 8 \
  --prompt "Key-value pairs: bcd=417, xyz=902, klm=355, qrs=128, fgh=764, tuv=539. Query: klm. Value:"
$cli plot "$out/metrics.jsonl" -o "$out/loss.svg"
echo "curves drawn in $out/loss.svg"
# The trained model as a Hugging Face folder, loaded by transformers (installed by scripts/install-peer.sh into
# .venv; skipped when it cannot be) and compared with memtx: logits within 1e-4 and the same token ids.
$cli export-hf --model "$out/final_model" --output "$out/hf"
scripts/install-peer.sh
.venv/bin/python tests/peer/export_transformers.py --judge "$out/final_model" "$out/hf" || [ $? -eq 77 ]
# Infini-attention: train configs/passkey_infini.yaml (~2-3 min; all prompts 256 tokens), continue it on prompts
# of 224..256 tokens with configs/passkey_infini_lengths.yaml (~1 min), and retrieve the pass key at 1x, 4x and
# 16x the 256-token training length, at lengths off the 32-token segment grid, and at 64x and 256x (16k and 64k
# tokens, where this model no longer retrieves), needle depths 0 (first segment) to 1; a heat map of the
# accuracy per cell, with seconds per trial and peak RSS per length.
pk=outputs/passkey_infini
pkl=outputs/passkey_infini_lengths
rm -rf "$pk" "$pkl"
$cli train --config configs/passkey_infini.yaml --output_dir "$pk"
$cli train --config configs/passkey_infini_lengths.yaml --init-from "$pk/final_model" --output_dir "$pkl"
$cli passkey --model "$pkl/final_model" --lengths 256 300 1000 1024 4000 4096 16384 65536 --depths 0 0.25 0.5 0.75 1 \
  --trials 10 --json "$pkl/passkey.json" --svg "$pkl/passkey.svg"
echo "passkey heat map drawn in $pkl/passkey.svg"
for fixture in qwen2-tiny llama-tiny mamba-tiny deepseekv3-mla-tiny; do
  if [ -d "../shared/fixtures/hf/$fixture" ]; then $cli check-fixture "../shared/fixtures/hf/$fixture"; fi
done
