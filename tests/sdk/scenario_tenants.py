"""Sub-tenant accounts (aggregator API): Account create/read/update/list, the tenant's users,
API keys and invitations via the Subtenant* Foundation entities."""
from mbed_cloud.foundation import Account, SubtenantApiKey, SubtenantUser, SubtenantUserInvitation, User

from sdk_common import check, create_subtenant, eq, expect_not_found, ids, is_datetime, uid


def account_create_read_update_list(ctx):
    acc, req = create_subtenant()  # POST /v3/accounts?action=create
    ctx.remember_subtenant(acc)
    check(acc.id, "created account has no id")
    eq(acc.parent_id, ctx.me().id, "parent_id of the sub-tenant")
    eq((acc.display_name, acc.end_market, acc.aliases), (req["display_name"], "IT", req["aliases"]), "created fields")
    eq(acc.admin_email, req["admin_email"], "admin_email in the creation response")
    check(acc.admin_id, "admin_id missing from the creation response")
    check(acc.admin_key and acc.admin_key.startswith("ak_"), "admin_key missing: %r" % (acc.admin_key,))
    check(is_datetime(acc.created_at), "created_at not RFC3339")
    # the admin key works and is scoped to the new tenant
    eq(ctx.sdk(api_key=acc.admin_key).foundation.account().me().id, acc.id, "me() with the tenant admin key")
    # GET /v3/accounts/{id}
    got = Account(id=acc.id).read()
    eq((got.display_name, got.parent_id), (req["display_name"], ctx.me().id), "read back")
    # Minimal PUT /v3/accounts/{id}: a fresh entity only sends the fields set on it.
    company = "ACME " + uid()
    Account(id=acc.id, company=company).update()
    eq(Account(id=acc.id).read().company, company, "company after update")
    # Read-modify-update: the PUT body then carries every updatable field the server returned,
    # including nulls (e.g. "address_line2": null) and nested password_policy.
    got = Account(id=acc.id).read()
    got.phone_number = "+44 20 %s" % uid()[:6]
    got.update()
    again = Account(id=acc.id).read()
    eq((again.phone_number, again.company), (got.phone_number, company), "after read-modify-update")
    # GET /v3/accounts?order=ASC&limit=1000 (+ status__eq filter)
    check(acc.id in ids(Account().list()), "Account().list() misses the sub-tenant")
    check(acc.id in ids(Account().list(filter={"status": {"eq": again.status}})), "status__eq filter")
    check(acc.id not in ids(Account().list(filter={"status": {"nin": [again.status]}})), "status__nin filter")
    # the tenant's admin user is listed under it: GET /v3/accounts/{id}/users
    admins = [x for x in acc.users() if x.id == acc.admin_id]
    eq(len(admins), 1, "admin user in account.users()")
    eq(admins[0].email, req["admin_email"], "admin user email")
    expect_not_found(Account(id="0" * 32).read, "read of an unknown account")


def subtenant_user_crud(ctx):
    acc, u = ctx.subtenant(), uid()
    email = "tenant-user-%s@example.com" % u
    # POST /v3/accounts/{id}/users?action=create
    su = SubtenantUser(account_id=acc.id, email=email, username="tu_" + u, full_name="Tenant " + u).create()
    check(su.id, "created tenant user has no id")
    eq((su.account_id, su.email), (acc.id, email), "created tenant user")
    got = SubtenantUser(account_id=acc.id, id=su.id).read()
    eq(got.email, email, "read back email")
    got.full_name = "Tenant renamed " + u  # read-modify-update, login_profiles sent as null
    got.update()
    eq(SubtenantUser(account_id=acc.id, id=su.id).read().full_name, "Tenant renamed " + u, "after update")
    eq(ids(acc.users(filter={"email": {"eq": email}})), [su.id], "account.users(email__eq)")
    check(su.id not in ids(User().list()), "tenant user leaked into the root account's user list")
    su.validate_email()  # POST .../validate-email -> 204, empty body
    su.delete()
    expect_not_found(SubtenantUser(account_id=acc.id, id=su.id).read, "read of deleted tenant user")


def subtenant_api_key_crud(ctx):
    acc = ctx.subtenant()
    name = "tenant-key-" + uid()
    key = SubtenantApiKey(account_id=acc.id, name=name).create()  # POST /v3/accounts/{id}/api-keys
    check(key.id and key.key and key.key.startswith("ak_"), "created tenant key %r" % (key.key,))
    eq(key.account_id, acc.id, "tenant key account_id")
    eq(SubtenantApiKey(account_id=acc.id, id=key.id).read().name, name, "read back name")
    check(key.id in ids(acc.api_keys()), "account.api_keys() misses the key")
    eq(ctx.sdk(api_key=key.key).foundation.account().me().id, acc.id, "tenant key authenticates into the tenant")
    key.delete()
    expect_not_found(SubtenantApiKey(account_id=acc.id, id=key.id).read, "read of deleted tenant key")


def subtenant_user_invitation_crud(ctx):
    acc = ctx.subtenant()
    email = "tenant-invite-%s@example.com" % uid()
    inv = SubtenantUserInvitation(account_id=acc.id, email=email).create(valid_for_days=3)
    check(inv.id and inv.user_id, "tenant invitation id/user_id missing")
    eq((inv.account_id, inv.email), (acc.id, email), "created tenant invitation")
    eq(SubtenantUserInvitation(account_id=acc.id, id=inv.id).read().email, email, "read back")
    check(inv.id in ids(acc.user_invitations()), "account.user_invitations() misses it")
    inv.delete()
    expect_not_found(SubtenantUserInvitation(account_id=acc.id, id=inv.id).read, "read of deleted invitation")


SCENARIOS = [account_create_read_update_list, subtenant_user_crud, subtenant_api_key_crud,
             subtenant_user_invitation_crud]
