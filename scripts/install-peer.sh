#!/usr/bin/env bash
# Installs the peer tests' Python packages (scripts/requirements-peer.txt) into .venv/. Run by ctest as the
# setup of the `peer` fixture. Never fails: when the packages cannot be installed (no network), it says so, and
# every peer test then skips with that message (tests/peer/peer_support.py).
cd "$(dirname "$0")/.."
if ! scripts/install-pins.sh scripts/requirements-peer.txt; then
  echo "memtx: the peer packages (scripts/requirements-peer.txt) could not be installed; peer tests will skip"
fi
exit 0
