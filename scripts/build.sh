#!/usr/bin/env bash
# Configures and builds memtx into build/ (Release, Ninja, ccache when present) against the LibTorch inside the
# pinned torch wheel of .venv/ (scripts/install-deps.sh installs it). With the CUDA toolkit (nvcc) present the
# build is a CUDA build (memtx's CUDA sources for sm_80 and sm_90). The compiler is clang when installed
# (scripts/env.sh says why; MEMTX_COMPILER=gcc for g++); each target's sources compile in unity groups
# (-DMEMTX_UNITY_BUILD=OFF for one compiler run per source). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
torch_prefix=$(.venv/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" \
  ${memtx_compiler_args[@]+"${memtx_compiler_args[@]}"} "$@" >/dev/null
ninja -C build
