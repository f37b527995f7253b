#!/usr/bin/env bash
# README command two: installs what is needed, builds everything, runs the whole test suite (ctest), then the
# fuzz targets' smoke run (scripts/fuzz.sh) and the sanitizer build's tests (scripts/sanitize.sh).
# scripts/test.sh --sanitize runs only the sanitizer part; other args go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  shift
  exec scripts/sanitize.sh "$@"
fi
scripts/build.sh
source scripts/env.sh
(cd build && ctest --output-on-failure -j2 "$@")
scripts/fuzz.sh smoke   # the libFuzzer targets of fuzz/, 30 s each: any crash, leak, UB or timeout fails
scripts/sanitize.sh     # ASan + UBSan (+ LeakSanitizer) build of the library and a part of the suite
