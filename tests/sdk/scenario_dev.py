"""Dev mode scenarios (issue 20): faults injected with PUT /admin/faults reach the SDK as its
error types, and its calls work again once DELETE /admin/faults clears them. Needs a server
started with [dev] enabled = true, hence not among the default areas."""
import json
import urllib.request

from mbed_cloud import AccountManagementAPI
from mbed_cloud.exceptions import CloudApiException
from mbed_cloud.foundation import Account

from sdk_common import check, eq, expect_status


def _admin(ctx, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ctx.host + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + ctx.api_key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as res:
        return res.status


def injected_503_reaches_the_sdk_until_cleared(ctx):
    fault = {"path": "/v3/accounts/me", "method": "GET", "status": 503, "retry_after_secs": 2}
    eq(_admin(ctx, "PUT", "/admin/faults", {"faults": [fault]}), 200, "PUT /admin/faults")
    try:
        # Foundation: ApiErrorResponse carrying the status.
        err = expect_status(Account().me, 503, "Account().me() under an injected 503")
        check("unavailable" in str(err).lower() or "503" in str(err), "error text: %s" % err)
        # Legacy interface: CloudApiException carrying the status.
        try:
            AccountManagementAPI().get_account()
            raise AssertionError("get_account() succeeded under an injected 503")
        except CloudApiException as legacy:
            eq(legacy.status, 503, "legacy CloudApiException status")
    finally:
        eq(_admin(ctx, "DELETE", "/admin/faults"), 204, "DELETE /admin/faults")
    me = Account().me()
    check(me.id, "Account().me() after the faults were cleared")
    eq(AccountManagementAPI().get_account().id, me.id, "legacy get_account() after clearing")


SCENARIOS = [injected_503_reaches_the_sdk_until_cleared]
