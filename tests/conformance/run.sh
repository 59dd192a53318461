#!/usr/bin/env bash
# Spec conformance: schemathesis generates valid and invalid requests for every operation of
# ../shared/spec/iam-openapi.yaml and checks each response against the spec, against an iamd
# that is ALREADY running (this script starts nothing).
#
#   IAMD_URL          e.g. http://127.0.0.1:8080 (required)
#   IAMD_API_KEY      admin API key of the root account (default: $IAMD_DATA_DIR/admin-api-key)
#   IAMD_SPEC         spec path (default: $ROOT/../shared/spec/iam-openapi.yaml)
#   CONFORMANCE_EXAMPLES  generated cases per operation (default 25)
#   CONFORMANCE_BUDGET    wall-clock budget in seconds for the whole run (default 900)
#   CONFORMANCE_VENV      venv location (default target/conformance-venv)
#   CONFORMANCE_TENANT    account id used for every `{account_id}` path parameter; default
#                         `auto`: a sub-tenant created here through POST /v3/accounts (when
#                         that route answers 201), so tenant routes get past "no such
#                         account"; `none` leaves the ids random
# Extra arguments go to `schemathesis run` (e.g. --include-path-regex '^/v3/users').
#
# Deliberate differences from the spec are excluded here, each narrowly; README.md
# § "Conformance: where iamd deliberately differs" says why.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
: "${IAMD_URL:?IAMD_URL must be set (e.g. http://127.0.0.1:PORT)}"
KEY="${IAMD_API_KEY:-}"
if [ -z "$KEY" ] && [ -n "${IAMD_DATA_DIR:-}" ]; then
  KEY="$(cat "$IAMD_DATA_DIR/admin-api-key")"
fi
: "${KEY:?IAMD_API_KEY (or IAMD_DATA_DIR holding admin-api-key) must be set}"
SPEC="${IAMD_SPEC:-$ROOT/../shared/spec/iam-openapi.yaml}"
EXAMPLES="${CONFORMANCE_EXAMPLES:-25}"
BUDGET="${CONFORMANCE_BUDGET:-900}"

VENV="${CONFORMANCE_VENV:-target/conformance-venv}"
REQ="tests/conformance/requirements.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.iamd-conformance-requirements"
if ! cmp -s "$REQ" "$STAMP"; then
  "$VENV/bin/pip" install -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi

# Never phone home (the workplace has no network beyond package registries anyway).
export SCHEMATHESIS_TELEMETRY=false
# Narrow replacements of built-in checks where iamd deliberately differs (see hooks.py).
export SCHEMATHESIS_HOOKS=tests.conformance.hooks
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

TENANT="${CONFORMANCE_TENANT:-auto}"
EXTRA=()
if [ "$TENANT" = auto ]; then
  TENANT="$("$VENV/bin/python" - "$IAMD_URL" "$KEY" <<'PY'
import sys, time, requests
url, key = sys.argv[1], sys.argv[2]
r = requests.post(f"{url}/v3/accounts", headers={"Authorization": f"Bearer {key}"},
                  json={"display_name": f"conformance {int(time.time())}",
                        "end_market": "conformance",
                        "admin_email": f"conformance{int(time.time())}@example.com"})
print(r.json().get("id", "") if r.status_code == 201 else "")
PY
)"
fi
if [ -n "$TENANT" ] && [ "$TENANT" != none ]; then
  echo "conformance: {account_id} = $TENANT"
  EXTRA+=(--set-path "account_id=$TENANT")
fi

# The spec says `basePath: null` and names the public host; its paths already start with /v3.
exec timeout --signal=INT --kill-after=30 "$BUDGET" \
  "$VENV/bin/schemathesis" run "$SPEC" \
  --base-url "$IAMD_URL" \
  -H "Authorization: Bearer $KEY" \
  --checks not_a_server_error,iamd_status_code_conformance,iamd_content_type_conformance,response_schema_conformance \
  --data-generation-method all \
  --hypothesis-max-examples "$EXAMPLES" \
  --hypothesis-deadline 30000 \
  --hypothesis-database none \
  --hypothesis-suppress-health-check all \
  --request-timeout 30000 \
  --generation-with-security-parameters false \
  --schemathesis-io-telemetry false \
  --experimental-no-failfast \
  --no-color \
  "${EXTRA[@]}" "$@"
