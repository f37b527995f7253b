# Sourced by scripts/build.sh and scripts/test.sh: the environment memtx builds and tests in.
# - nvcc: the CUDA toolkit's bin folder joins PATH when nvcc is not on it already (a CUDA build, and the
#   LibTorch wheel's CMake files, need it; tests that configure CMake projects too).
# - ccache: paths below the checkout are hashed relative to it, so a fresh clone elsewhere hits the same cache;
#   the precompiled header needs the pch sloppiness.
memtx_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
export CCACHE_BASEDIR="$memtx_root" CCACHE_NOHASHDIR=true
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
# - compiler: clang when installed (scripts/install-deps.sh installs it), else the system's c++. clang loads the
#   precompiled torch header in about a third of g++'s time (g++ reads a ~700 MB file for every compiler run);
#   MEMTX_COMPILER=gcc keeps g++. Both compile memtx; CI builds with clang.
memtx_compiler_args=()
if [ "${MEMTX_COMPILER:-clang}" = clang ] && command -v clang++ >/dev/null 2>&1 && command -v clang >/dev/null 2>&1; then
  memtx_compiler_args=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
fi
