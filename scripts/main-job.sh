#!/usr/bin/env bash
# README command one: installs what is needed, builds, and runs the main job on the embedded default.
# Until the trainer lands this is the model demo: build a small model from configs/tiny_causal.yaml, run a
# forward pass (also with a [causal, ssm, mla, co4] mix), and check memtx against the Hugging Face fixtures
# when ../shared is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/memtx-cli build-info
build/bin/memtx-cli plugins
build/bin/memtx-cli demo --config-file configs/tiny_causal.yaml
build/bin/memtx-cli demo --config-file configs/tiny_causal.yaml --set "attention.attention_list=[causal, ssm, mla, co4]"
for fixture in qwen2-tiny llama-tiny mamba-tiny deepseekv3-mla-tiny; do
  if [ -d "../shared/fixtures/hf/$fixture" ]; then build/bin/memtx-cli check-fixture "../shared/fixtures/hf/$fixture"; fi
done
