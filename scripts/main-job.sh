#!/usr/bin/env bash
# README command one: installs what is needed, builds, and runs the main job on the embedded default:
# trains configs/cpu_small.yaml (a 4 x 256 causal model, byte tokenizer, built-in passkey prompts of 96..128
# tokens: no files, no network) on the CPU, then evaluates the final model (exact match over 128 held-out
# prompts), answers a demo prompt, draws the loss and learning-rate curves, and exports it as a Hugging Face
# folder that transformers loads with the same logits; then trains a small Infini-attention model with a write
# gate on the passkey task (three stages) and draws its retrieval heat map from 1x to 256x its training length
# (256 to 65536 tokens) and off the segment grid. Also checks memtx against the Hugging Face fixtures when
# ../shared is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cli=build/bin/memtx-cli
out=outputs/cpu_small
$cli build-info
rm -rf "$out"
$cli train --config configs/cpu_small.yaml --output_dir "$out"
# Loss, perplexity and token accuracy of the answers " NN" on the held-out prompts; exact match is the share of
# the 128 held-out prompts answered right token for token (what greedy generation does).
$cli eval --model "$out/final_model" --config configs/cpu_small.yaml
# The demo: a prompt written here (not from the dataset); the model should answer " 71" (3 tokens).
$cli generate --model "$out/final_model" --temperature 0 --max_new_tokens 3 --prompt \
  "The grass is green. The pass key is 71. Remember it. 71 is the pass key. What is the pass key? The pass key is"
$cli plot "$out/metrics.jsonl" -o "$out/loss.svg"
echo "curves drawn in $out/loss.svg"
# The trained model as a Hugging Face folder, loaded by transformers (installed by scripts/install-peer.sh into
# .venv; skipped when it cannot be) and compared with memtx: logits within 1e-4 and the same token ids.
$cli export-hf --model "$out/final_model" --output "$out/hf"
scripts/install-peer.sh
.venv/bin/python tests/peer/export_transformers.py --judge "$out/final_model" "$out/hf" || [ $? -eq 77 ]
# Infini-attention with the write gate: configs/passkey_infini_gated.yaml in three stages (prompts of 256 tokens,
# then ~2048 and ~8192 tokens from the previous stage's weights, so the filler learns to write nothing into the
# compressive memory; 10.6 minutes measured on 2 cores), then the pass key retrieved at 1x, 4x and 16x the 256-token
# training length, at lengths off the 32-token segment grid, and at 64x and 256x (16k and 64k tokens), needle
# depths 0 (first segment) to 1: a heat map of the accuracy per cell, with seconds per trial and peak RSS per
# length.
pk=outputs/passkey_infini_gated
pk2=outputs/passkey_gated_2k
pk3=outputs/passkey_gated_8k
rm -rf "$pk" "$pk2" "$pk3"
$cli train --config configs/passkey_infini_gated.yaml --output_dir "$pk"
$cli train --config configs/passkey_infini_gated.yaml --init-from "$pk/final_model" \
  --dataset_name "synthetic:passkey?length=2048&min_length=2016&digits=2&examples=2000" --max_length 2048 \
  --batch_size 4 --max_steps 120 --warmup_steps 10 --base_model_lr 1e-3 --output_dir "$pk2"
$cli train --config configs/passkey_infini_gated.yaml --init-from "$pk2/final_model" \
  --dataset_name "synthetic:passkey?length=8192&min_length=8160&digits=2&examples=1000" --max_length 8192 \
  --batch_size 1 --max_steps 120 --warmup_steps 10 --base_model_lr 1e-3 --output_dir "$pk3"
$cli passkey --model "$pk3/final_model" --lengths 256 300 1000 1024 4000 4096 16384 65536 --depths 0 0.25 0.5 0.75 1 \
  --trials 10 --json "$pk3/passkey.json" --svg "$pk3/passkey.svg"
echo "passkey heat map drawn in $pk3/passkey.svg"
for fixture in qwen2-tiny llama-tiny mamba-tiny deepseekv3-mla-tiny; do
  if [ -d "../shared/fixtures/hf/$fixture" ]; then $cli check-fixture "../shared/fixtures/hf/$fixture"; fi
done
