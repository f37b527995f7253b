#!/usr/bin/env bash
# README command one: installs what is needed, builds, and runs the main job on the embedded default.
# Until the trainer lands this is the model demo: build a small model from configs/tiny_causal.yaml, run a
# forward pass, and check memtx against the Hugging Face Qwen2 fixture when ../shared is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/memtx-cli build-info
build/bin/memtx-cli plugins
build/bin/memtx-cli demo --config-file configs/tiny_causal.yaml
if [ -d ../shared/fixtures/hf/qwen2-tiny ]; then
  build/bin/memtx-cli check-fixture ../shared/fixtures/hf/qwen2-tiny
fi
