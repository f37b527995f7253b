#!/usr/bin/env bash
# README command two: installs what is needed, builds everything, and runs the whole test suite (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
source scripts/env.sh
cd build
ctest --output-on-failure -j2 "$@"
