# Sourced by the scripts here: makes (or refreshes) the harness's venv, $VENV, from
# requirements.txt. Expects to run from the repository root.
VENV="${SDK_VENV:-target/sdk-venv}"
REQ="tests/sdk/requirements.txt"
STAMP="$VENV/.iamd-sdk-requirements"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# Tests that use the venv run at the same time (the SDK scenarios, the README's examples): one
# makes it while the others wait. Without the lock, a second one found bin/python already
# there while the first was still installing pip into it ("No module named pip").
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
# A venv cut short (a run killed while making it) has no pip: made again.
if ! "$VENV/bin/python" -c 'import pip' 2>/dev/null; then
  python3 -m venv --clear "$VENV"
  rm -f "$STAMP"
fi
# Reinstall only when requirements.txt changed since the last successful install (saves ~seconds
# per run and avoids touching the network when nothing changed).
# `python -m pip`, not `bin/pip`: a venv copied from another checkout keeps that one's path in
# its scripts' first line, and its pip would install there.
if ! cmp -s "$REQ" "$STAMP"; then
  "$VENV/bin/python" -m pip install -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi
exec 9>&-
