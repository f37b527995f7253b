#!/usr/bin/env bash
# Installs memtx into a temporary prefix, builds the out-of-tree example plugin with find_package(memtx)
# and the C example against the installed library, then checks that the installed memtx-cli finds its own
# plugins beside libmemtx and the example plugin through MEMTX_PLUGIN_PATH, and that a model using the
# example variant builds and runs, and that the example's config rule is enforced. Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/examples/plugin" -B "$work/plugin" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name 'libmemtx.so' | head -n1)")
cc -std=c99 -o "$work/forward" "$src/examples/c/forward.c" -I"$work/prefix/include" -L"$libdir" -lmemtx -Wl,-rpath,"$libdir"
cli="$work/prefix/bin/memtx-cli"
out=$(MEMTX_PLUGIN_PATH="$work/plugin" "$cli" plugins)
grep -q "variant causal" <<<"$out" || { echo "installed causal plugin not found:"; echo "$out"; exit 1; }
grep -q "variant local" <<<"$out" || { echo "example plugin not found via MEMTX_PLUGIN_PATH:"; echo "$out"; exit 1; }
grep -q "attention.local_window" <<<"$out" || { echo "example plugin option missing"; exit 1; }
cat >"$work/local.yaml" <<'YAML'
model: {hidden_dim: 32, num_heads: 4, num_layers: 2, intermediate_dim: 64, vocab_size: 40, device: cpu}
attention: {attention_list: [causal, local], local_window: 3}
memory: {vanilla_mode: true}
YAML
MEMTX_PLUGIN_PATH="$work/plugin" "$cli" describe --config-file "$work/local.yaml" | grep -q '"local"'
MEMTX_PLUGIN_PATH="$work/plugin" "$work/forward" "$work/local.yaml" 1 2 3 | grep -q "position 2"
# The example plugin's own rule runs in validation and names its keys.
sed 's/local_window: 3/local_window: 99/; s/device: cpu/device: cpu, max_seq_len: 16/' "$work/local.yaml" >"$work/wide.yaml"
if MEMTX_PLUGIN_PATH="$work/plugin" "$cli" verify-config --config-file "$work/wide.yaml" 2>"$work/err" >/dev/null; then
  echo "the example plugin's rule did not run"; exit 1
fi
grep -q "attention.local_window (99) must be <= model.max_seq_len (16)" "$work/err" || { cat "$work/err"; exit 1; }
# Without the path, the example variant is unknown and the error lists what is registered.
grep -v "^attention" "$work/local.yaml" >"$work/nolocal.yaml"
echo "attention: {attention_list: [causal, local]}" >>"$work/nolocal.yaml"
if "$cli" describe --config-file "$work/nolocal.yaml" 2>"$work/err"; then echo "expected failure"; exit 1; fi
grep -q "unknown attention variant 'local'" "$work/err" || { cat "$work/err"; exit 1; }
echo "install test passed"
