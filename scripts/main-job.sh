#!/usr/bin/env bash
# README command one: installs what is needed, builds, and runs the main job on the embedded default:
# trains configs/cpu_small.yaml (a 4 x 256 causal model, byte tokenizer, built-in associative-recall data: no
# files, no network) on the CPU, then evaluates the final model, generates a sample, and draws the loss and
# learning-rate curves. Also checks memtx against the Hugging Face fixtures when ../shared is present.
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
$cli generate --model "$out/final_model" --temperature 0 --max_new_tokens 8 \
  --prompt "Key-value pairs: bcd=417, xyz=902, klm=355, qrs=128, fgh=764, tuv=539. Query: klm. Value:"
$cli plot "$out/metrics.jsonl" -o "$out/loss.svg"
echo "curves drawn in $out/loss.svg"
for fixture in qwen2-tiny llama-tiny mamba-tiny deepseekv3-mla-tiny; do
  if [ -d "../shared/fixtures/hf/$fixture" ]; then $cli check-fixture "../shared/fixtures/hf/$fixture"; fi
done
