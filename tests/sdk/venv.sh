# Sourced by the scripts here: makes (or refreshes) the harness's venv, $VENV, from
# requirements.txt. Expects to run from the repository root.
VENV="${SDK_VENV:-target/sdk-venv}"
REQ="tests/sdk/requirements.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# Reinstall only when requirements.txt changed since the last successful install (saves ~seconds
# per run and avoids touching the network when nothing changed).
STAMP="$VENV/.iamd-sdk-requirements"
# `python -m pip`, not `bin/pip`: a venv copied from another checkout keeps that one's path in
# its scripts' first line, and its pip would install there.
if ! cmp -s "$REQ" "$STAMP"; then
  "$VENV/bin/python" -m pip install -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi
