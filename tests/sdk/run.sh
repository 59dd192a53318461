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

source tests/sdk/venv.sh
exec "$VENV/bin/python" tests/sdk/run_scenarios.py "$@"
