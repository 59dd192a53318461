"""Own-account scenarios (issue 2): Foundation Account().me(), legacy AccountManagementAPI
get_account()/update_account(), and API-key authentication."""
from mbed_cloud import AccountManagementAPI
from mbed_cloud.exceptions import CloudApiException
from mbed_cloud.foundation import Account

from sdk_common import check, eq, expect_status, is_datetime, uid


def me_matches_legacy_get_account(ctx):
    # GET /v3/accounts/me
    me = Account().me()
    check(me.id, "Account().me() returned no id")
    eq(me.status, "ACTIVE", "own account status")
    check(is_datetime(me.created_at), "created_at must be an RFC3339 string, got %r" % (me.created_at,))
    check(me.tier is not None, "tier must be present (as a JSON string)")
    # GET /v3/accounts/me?include=limits%2C+policies  -- the legacy SDK puts a space after the comma.
    legacy = AccountManagementAPI().get_account()
    eq(legacy.id, me.id, "legacy get_account().id")
    eq(legacy.display_name, me.display_name, "legacy display_name")
    eq(legacy.status, me.status, "legacy status")
    check(is_datetime(legacy.created_at), "legacy created_at not parsed: %r" % (legacy.created_at,))
    check(legacy.limits is not None, "include='limits, policies' was not honoured: limits missing")
    check(legacy.policies is not None, "include='limits, policies' was not honoured: policies missing")


def legacy_update_account_reads_back(ctx):
    am = AccountManagementAPI()
    before = Account().me()
    name, phone = "sdk-root-" + uid(), "+44 1223 %s" % uid()[:6]
    # PUT /v3/accounts/me with only the two fields given (legacy drops unset fields).
    updated = am.update_account(display_name=name, phone_number=phone)
    eq(updated.id, before.id, "update_account returned another account")
    eq(updated.display_name, name, "update_account response display_name")
    eq(updated.phone_number, phone, "update_account response phone_number")
    after = Account().me()
    eq(after.display_name, name, "display_name read back via Account().me()")
    eq(after.phone_number, phone, "phone_number read back")
    eq(after.end_market, before.end_market, "untouched end_market changed")
    eq(after.company, before.company, "untouched company changed")
    eq(am.get_account().display_name, name, "display_name read back via legacy get_account()")


def bad_api_key_is_rejected(ctx):
    # Unknown key -> 401 on both interfaces (Foundation raises ApiErrorResponse; legacy maps any
    # non-404 ApiException to CloudApiException carrying the status).
    bogus = "ak_" + uid() + uid()
    expect_status(ctx.sdk(api_key=bogus).foundation.account().me, 401, "me() with an unknown key")
    try:
        AccountManagementAPI({"api_key": bogus, "host": ctx.host}).get_account()
    except CloudApiException as err:
        eq(err.status, 401, "legacy get_account() with an unknown key")
    else:
        raise AssertionError("legacy get_account() with an unknown key succeeded")


SCENARIOS = [me_matches_legacy_get_account, legacy_update_account_reads_back, bad_api_key_is_rejected]
