"""Sign-in sessions (issue 16): a reference token from POST /auth/login used as
MBED_CLOUD_SDK_API_KEY works with the SDK, with the rights of the user who signed in.

The SDK has no login call: the scenario signs in over plain HTTP (requests, the SDK's own
dependency), then runs the SDK in a fresh interpreter whose only credential is the token in
MBED_CLOUD_SDK_API_KEY, exactly as a person would configure it."""
import json
import os
import subprocess
import sys

import requests

from sdk_common import check, eq, strong_password, uid

# Runs in the child interpreter: the SDK reads MBED_CLOUD_SDK_HOST/API_KEY from the
# environment. Prints what it saw as one JSON line.
PROBE = r"""
import json
from mbed_cloud.foundation import Account, User
from mbed_cloud.sdk import ApiErrorResponse

out = {"me": Account().me().id, "users": [u.id for u in User().list()]}
try:
    User(email="probe-%s@example.com" % out["me"][:8]).create()
    out["create_status"] = 201
except ApiErrorResponse as err:
    out["create_status"] = err.status_code
print(json.dumps(out))
"""


def _admin(ctx, method, path, body=None):
    r = requests.request(method, ctx.host + path, json=body,
                         headers={"Authorization": "Bearer " + ctx.api_key}, timeout=30)
    check(r.status_code < 300, "%s %s: %d %s" % (method, path, r.status_code, r.text[:300]))
    return r.json()


def _group_id(ctx, name):
    found = _admin(ctx, "GET", "/v3/policy-groups?name__eq=" + name)["data"]
    eq(len(found), 1, "groups named " + name)
    return found[0]["id"]


def _session_probe(ctx, group):
    """A new user in `group` signs in; the SDK then runs with its session token."""
    u, password = uid(), strong_password()
    user = _admin(ctx, "POST", "/v3/users", {
        "email": "sess-%s@example.com" % u, "username": "sess_" + u, "password": password,
        "groups": [_group_id(ctx, group)]})
    r = requests.post(ctx.host + "/auth/login", json={"username": "sess_" + u, "password": password},
                      timeout=30)
    eq(r.status_code, 200, "login status (%s)" % r.text[:300])
    token = r.json()["token"]
    check(token.startswith("rt_"), "session token %r" % token[:6])
    env = dict(os.environ, MBED_CLOUD_SDK_API_KEY=token, MBED_CLOUD_SDK_HOST=ctx.host)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    check(done.returncode == 0, "SDK with the session failed:\n" + done.stderr[-2000:])
    return user, json.loads(done.stdout.strip().splitlines()[-1])


def admin_session_is_an_sdk_key(ctx):
    user, seen = _session_probe(ctx, "Administrators")
    eq(seen["me"], ctx.me().id, "Account().me() with an admin's session")
    check(user["id"] in seen["users"], "User().list() with the session lacks the user itself")
    eq(seen["create_status"], 201, "an admin's session creates a user")


def developer_session_gets_403_on_admin_routes(ctx):
    user, seen = _session_probe(ctx, "Developers")
    eq(seen["me"], ctx.me().id, "Account().me() with a developer's session")
    eq(seen["create_status"], 403, "a developer's session creating a user (ApiErrorResponse)")


SCENARIOS = [admin_session_is_an_sdk_key, developer_session_gets_403_on_admin_routes]
