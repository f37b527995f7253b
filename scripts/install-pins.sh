#!/usr/bin/env bash
# Installs the pinned Python packages of a requirements file (name==version lines, # comments) into the
# project's .venv/ (created when missing or broken); pip runs only when a pin is unmet.
# Used by scripts/install-deps.sh (scripts/requirements.txt) and scripts/install-peer.sh (the peer tests' pins).
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:?usage: scripts/install-pins.sh REQUIREMENTS_FILE}
venv=.venv
if ! "$venv/bin/python" -c "" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" - "$requirements" <<'PY'
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
  echo "memtx: installing the pinned Python packages of $requirements into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
fi
