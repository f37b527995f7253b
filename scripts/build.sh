#!/usr/bin/env bash
# Configures and builds memtx into build/ (Release, Ninja, ccache when present). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
ninja -C build
