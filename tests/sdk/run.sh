#!/usr/bin/env bash
# Runs the mbed-cloud-sdk 2.2.0 scenarios against an iamd that is ALREADY running.
#   IAMD_SDK_HOST     e.g. http://127.0.0.1:8443   (no trailing slash needed)
#   IAMD_SDK_API_KEY  an admin API key of the root account
#   SDK_VENV          venv location, default target/sdk-venv (relative to the repo root)
# Extra arguments are area names passed to run_scenarios.py (default: all areas).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
: "${IAMD_SDK_HOST:?IAMD_SDK_HOST must be set (e.g. http://127.0.0.1:PORT)}"
: "${IAMD_SDK_API_KEY:?IAMD_SDK_API_KEY must be set}"

VENV="${SDK_VENV:-target/sdk-venv}"
REQ="tests/sdk/requirements.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# Reinstall only when requirements.txt changed since the last successful install (saves ~seconds
# per run and avoids touching the network when nothing changed).
STAMP="$VENV/.iamd-sdk-requirements"
if ! cmp -s "$REQ" "$STAMP"; then
  "$VENV/bin/pip" install -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi
exec "$VENV/bin/python" tests/sdk/run_scenarios.py "$@"
