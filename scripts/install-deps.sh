#!/usr/bin/env bash
# Installs what memtx builds and tests with on Debian 12: the Debian packages below (skips apt when all are
# present) and, into the project-local virtual environment .venv/, the pinned Python packages of
# scripts/requirements.txt (torch's wheel carries the LibTorch memtx links; skips pip when the pins are met).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential cmake ninja-build ccache pkg-config
  libopenblas0-pthread libopenblas-dev
  libyaml-cpp-dev nlohmann-json3-dev libcxxopts-dev libboost-dev libboost-filesystem-dev libgloo-dev
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

# The pinned wheels: a fresh .venv when there is none (or a broken one), then pip only when a pin is unmet.
venv=.venv
if ! "$venv/bin/python" -c "" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" - scripts/requirements.txt <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if have.split("+")[0] != want:
        sys.exit(1)
PY
then
  echo "memtx: installing the pinned Python packages into $venv (scripts/requirements.txt)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
fi
