#!/usr/bin/env bash
# Installs what memtx builds and tests with on Debian 12: the Debian packages below (skips apt when all are
# present) and, into the project-local virtual environment .venv/, the pinned Python packages of
# scripts/requirements.txt (torch's wheel carries the LibTorch memtx links; skips pip when the pins are met).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential cmake ninja-build ccache pkg-config
  libopenblas0-pthread libopenblas-dev
  libyaml-cpp-dev nlohmann-json3-dev libcxxopts-dev libboost-dev libboost-filesystem-dev libgloo-dev
  libonig-dev  # Oniguruma: the tokenizer.json regexes (lib/tokenizer/tokenizer_regex.cpp)
  libgtest-dev libgmock-dev python3 python3-venv swig default-jdk-headless junit4 golang-go
  clang libclang-rt-14-dev)  # clang + compiler-rt: the libFuzzer targets (scripts/fuzz.sh)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "memtx: installing ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The pinned wheels (torch, whose LibTorch memtx links), into .venv/.
scripts/install-pins.sh scripts/requirements.txt
