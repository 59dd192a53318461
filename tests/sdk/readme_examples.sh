#!/usr/bin/env bash
# Runs README.md's pytest fixture and Node example (§ Testing your client against iamd) as
# written: each block saved as the README says, run from the repository with the `iamd` of
# IAMD_BIN on the PATH. Node.js is optional here (skipped, with a notice, when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
: "${IAMD_BIN:?IAMD_BIN must name the iamd binary}"
source tests/sdk/venv.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" - "$WORK" <<'PY'
import sys
readme = open("README.md").read()
def block(heading, lang):
    return readme.split(heading, 1)[1].split("```" + lang + "\n", 1)[1].split("```", 1)[0]
work = sys.argv[1]
open(work + "/conftest.py", "w").write(block("### A pytest fixture", "python"))
open(work + "/iamd.test.mjs", "w").write(block("### Node (node:test)", "js"))
PY
# Tests of a client using the fixture: the seed is there, the SDK works, and each test starts
# from the seeded state (the first one's change is gone in the second).
cat > "$WORK/test_readme_fixture.py" <<'PY'
import json, urllib.request
from conftest import KEY, call

def emails(path):
    return sorted(u["email"] for u in json.load(call("GET", path))["data"])

def test_1_seeded_data_and_a_change(iamd):
    assert "alice@example.com" in emails("/v3/users")
    req = urllib.request.Request(iamd + "/v3/users", method="POST",
                                 data=json.dumps({"email": "temp@example.com"}).encode())
    req.add_header("Authorization", "Bearer " + KEY)
    req.add_header("Content-Type", "application/json")
    assert urllib.request.urlopen(req).status == 201
    assert "temp@example.com" in emails("/v3/users")

def test_2_the_change_is_gone(iamd):
    assert "temp@example.com" not in emails("/v3/users")

def test_3_the_sdk(iamd):
    from mbed_cloud import SDK
    sdk = SDK(api_key=KEY, host=iamd)
    assert sdk.foundation.account().me().display_name is not None
    assert "bob@example.com" in [u.email for u in sdk.foundation.user().list()]
PY
export PATH="$(dirname "$IAMD_BIN"):$PATH"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$WORK"
if command -v node >/dev/null; then
  node --test "$WORK/iamd.test.mjs"
  echo "node example: ran"
else
  echo "NOTICE: node not found: the README's Node example was not run"
fi
