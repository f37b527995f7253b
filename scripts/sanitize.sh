#!/usr/bin/env bash
# Builds memtx with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on) into build-asan/ and runs the
# parts of the test suite that fit CI's time: config, tokenizer, data, io, plugin loading, the C API (C test and
# thread test) and one model test per attention plugin (test_sanitized_models). Any report fails the run.
# LibTorch is not instrumented (it is the wheel's); memtx's own code, plugins and tests are. Each test program runs
# once, all its tests in one process (loading LibTorch under ASan takes seconds: ctest's process per test would
# spend most of the time there). Extra args go to every GoogleTest program (e.g. --gtest_filter=...).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
torch_prefix=$(.venv/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
# -O1: the sanitizers' usual level (readable reports, about half the compile time of -O3).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1" -DCMAKE_C_FLAGS_RELEASE="-O1" \
  -DCMAKE_PREFIX_PATH="$torch_prefix" ${memtx_compiler_args[@]+"${memtx_compiler_args[@]}"} \
  -DMEMTX_SANITIZE=address,undefined -DMEMTX_BUILD_CLI=OFF -DMEMTX_BUILD_BENCH=OFF -DMEMTX_BUILD_GO=OFF \
  -DMEMTX_BUILD_JAVA=OFF >/dev/null
ninja -C build-asan test_config test_tokenizer test_data test_io test_plugin test_capi_c test_capi_threads \
  test_sanitized_models memtx_plugins memtx_test_plugins
suppressions="$PWD/scripts/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$suppressions/ubsan.supp"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
export OMP_NUM_THREADS=1 MEMTX_PLUGIN_PATH=
cd build-asan/tests
for program in test_config test_tokenizer test_data test_io test_plugin test_capi_threads test_sanitized_models; do
  echo "== $program (ASan + UBSan + LSan)"
  "./$program" --gtest_brief=1 "$@"
done
echo "== test_capi_c (ASan + UBSan + LSan: every handle freed leaves nothing behind)"
./test_capi_c
