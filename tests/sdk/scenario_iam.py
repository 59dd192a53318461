"""Users, API keys, invitations and policy groups of the caller's own account, via Foundation
(User/ApiKey/UserInvitation) and the legacy AccountManagementAPI."""
import datetime

from mbed_cloud import AccountManagementAPI
from mbed_cloud.foundation import ApiKey, User, UserInvitation

from sdk_common import check, eq, expect_not_found, expect_status, ids, is_datetime, uid

USER_STATUSES = ("ACTIVE", "ENROLLING", "INACTIVE", "INVITED", "RESET")


def new_user(tag="user"):
    u = uid()
    return User(email="%s-%s@example.com" % (tag, u), username="%s_%s" % (tag, u),
                full_name="SDK %s %s" % (tag, u)).create()


def user_crud(ctx):
    u = uid()
    email = "crud-%s@example.com" % u
    # POST /v3/users?action=create
    user = User(email=email, username="crud_" + u, full_name="Crud " + u, phone_number="+1 555 0100",
                address="1 Test Street").create()
    check(user.id, "created user has no id")
    eq(user.email, email, "created email")
    eq(user.username, "crud_" + u, "created username")
    eq(user.account_id, ctx.me().id, "created user's account_id")
    check(user.status in USER_STATUSES, "unexpected status %r" % user.status)
    got = User(id=user.id).read()
    eq((got.email, got.full_name, got.address), (email, "Crud " + u, "1 Test Street"), "read back")
    check(is_datetime(got.created_at), "created_at not RFC3339: %r" % (got.created_at,))
    # Read-modify-update: the SDK re-sends every updatable field it read, so the PUT body carries
    # username/address/phone_number and "login_profiles": null (an empty list is sent as null).
    got.full_name, got.phone_number = "Renamed " + u, "+1 555 0199"
    eq(got.update().full_name, "Renamed " + u, "update response full_name")
    again = User(id=user.id).read()
    eq((again.full_name, again.phone_number, again.email), ("Renamed " + u, "+1 555 0199", email), "after update")
    user.delete()  # 204
    expect_not_found(User(id=user.id).read, "read of deleted user")
    expect_not_found(User(id=user.id).delete, "second delete of user")


def user_list_filters_and_paging(ctx):
    created = [new_user("page") for _ in range(3)]
    try:
        mine = ids(created)
        # email__eq filter must return exactly the one user
        eq(ids(User().list(filter={"email": {"eq": created[1].email}})), [mine[1]], "email__eq filter")
        # page_size=2 forces has_more + after=<last id of page>; each id exactly once
        paged = ids(User().list(page_size=2))
        eq(len(paged), len(set(paged)), "duplicate ids across pages")
        check(set(mine) <= set(paged), "paging lost users: %r" % (set(mine) - set(paged)))
        # order=ASC is creation order; DESC reverses it
        asc = [i for i in ids(User().list(order="ASC")) if i in mine]
        desc = [i for i in ids(User().list(order="DESC")) if i in mine]
        eq(asc, mine, "order=ASC")
        eq(desc, mine[::-1], "order=DESC")
        # status__in / status__nin (comma separated list)
        status = User(id=mine[0]).read().status
        check(mine[0] in ids(User().list(filter={"status": {"in": [status, "INACTIVE"]}})), "status__in")
        check(mine[0] not in ids(User().list(filter={"status": {"nin": [status]}})), "status__nin")
        # len() of an unread list = total_count from GET /v3/users?order=ASC&limit=2 (the SDK does
        # NOT send include=total_count here, so the server must always return total_count).
        eq(len(User().list()), len(paged), "len(User().list()) / total_count")
    finally:
        for user in created:
            user.delete()


def api_key_crud_and_auth(ctx):
    u = uid()
    # POST /v3/api-keys {"name": ...}; the full secret is only in this response
    key = ApiKey(name="sdk-key-" + u).create()
    check(key.id, "created key has no id")
    eq(key.name, "sdk-key-" + u, "created name")
    check(key.key and key.key.startswith("ak_"), "created key secret %r" % (key.key,))
    eq(key.status, "ACTIVE", "default key status")
    # the new key authenticates as the same account, and /v3/api-keys/me is that key
    other = ctx.sdk(api_key=key.key).foundation
    eq(other.account().me().id, ctx.me().id, "me() with the new key")
    eq(other.api_key().me().id, key.id, "ApiKey().me() with the new key")
    got = ApiKey(id=key.id).read()
    eq(got.name, "sdk-key-" + u, "read back name")
    # read-modify-update sends name, status and "owner": null
    got.name = "sdk-key-renamed-" + u
    got.update()
    eq(ApiKey(id=key.id).read().name, "sdk-key-renamed-" + u, "name after update")
    check(key.id in ids(ApiKey().list()), "new key missing from ApiKey().list()")
    key.delete()
    expect_not_found(ApiKey(id=key.id).read, "read of deleted key")
    expect_status(other.account().me, 401, "deleted key still authenticates")


def api_key_owner_filter(ctx):
    owner = new_user("owner")
    try:
        key = ApiKey(name="owned-" + uid(), owner=owner.id).create()
        eq(key.owner, owner.id, "created key owner")
        eq(ids(ApiKey().list(filter={"owner": {"eq": owner.id}})), [key.id], "owner__eq filter")
        key.delete()
    finally:
        owner.delete()


def user_invitation_crud(ctx):
    email = "invite-%s@example.com" % uid()
    # POST /v3/user-invitations {"email", "valid_for_days"}
    inv = UserInvitation(email=email).create(valid_for_days=5)
    check(inv.id and inv.user_id, "invitation id/user_id missing")
    eq(inv.email, email, "invitation email")
    eq(inv.account_id, ctx.me().id, "invitation account_id")
    check(is_datetime(inv.created_at) and is_datetime(inv.expiration), "created_at/expiration not RFC3339")
    lifetime = inv.expiration - inv.created_at
    check(datetime.timedelta(days=4) < lifetime < datetime.timedelta(days=6), "valid_for_days=5 gave %s" % lifetime)
    got = UserInvitation(id=inv.id).read()
    eq((got.email, got.user_id), (email, inv.user_id), "read back")
    check(inv.id in ids(UserInvitation().list()), "invitation missing from list")
    inv.delete()
    expect_not_found(UserInvitation(id=inv.id).read, "read of deleted invitation")


def legacy_users_and_api_keys(ctx):
    am = AccountManagementAPI()
    user = new_user("legacy")
    try:
        # GET /v3/users (+ limit=2&include=total_count for len()), after=<id> when paging
        listed = {x.id: x for x in am.list_users(page_size=2)}
        check(user.id in listed, "list_users() misses the new user")
        eq(listed[user.id].email, user.email, "legacy user email")
        check(is_datetime(listed[user.id].created_at), "legacy created_at not parsed")
        eq([x.id for x in am.list_users(filters={"email": {"$eq": user.email}})], [user.id], "legacy email filter")
        # POST /v3/api-keys {"name", "owner"}; note the legacy kwarg is owner_id
        key = am.add_api_key("legacy-" + uid(), owner_id=user.id)
        check(key.id and key.key and key.key.startswith("ak_"), "add_api_key result %r" % (key,))
        eq(key.owner_id, user.id, "add_api_key owner")
        check(key.id in [k.id for k in am.list_api_keys()], "list_api_keys() misses the new key")
        eq([k.id for k in am.list_api_keys(filters={"owner_id": {"$eq": user.id}})], [key.id], "owner__eq")
        am.delete_api_key(key.id)
        eq(am.get_api_key(key.id), None, "legacy get of a deleted key (legacy maps 404 to None)")
    finally:
        user.delete()


def legacy_groups_and_group_users(ctx):
    am = AccountManagementAPI()
    user, key = new_user("member"), ApiKey(name="member-" + uid()).create()
    name = "sdk-group-" + uid()
    # No Foundation entity for groups in 2.2.0: create it through the SDK's raw client.
    resp = ctx.sdk().client.call_api("post", "/v3/policy-groups",
                                     body_params={"name": name, "members": {"users": [user.id], "apikeys": [key.id]}})
    eq(resp.status_code, 201, "POST /v3/policy-groups status")
    gid = resp.json()["id"]
    try:
        groups = {g.id: g for g in am.list_groups()}
        check(gid in groups, "list_groups() misses the new group")
        g = groups[gid]
        eq((g.name, g.user_count, g.api_key_count), (name, 1, 1), "group summary name/user_count/apikey_count")
        eq([x.id for x in am.list_group_users(gid)], [user.id], "list_group_users()")
    finally:
        ctx.sdk().client.call_api("delete", "/v3/policy-groups/{gid}", path_params={"gid": gid})
        key.delete()
        user.delete()


def api_key_reset_secret_own_account(ctx):
    # POST /v3/api-keys/{id}/reset-secret: the SDK 2.2.0 has no Foundation method for the
    # own-account route, so its raw client calls it and unpacks the answer into an ApiKey.
    def reset(sdk, key_id):
        return sdk.client.call_api("post", "/v3/api-keys/{apikey_id}/reset-secret",
                                   path_params={"apikey_id": key_id}, unpack=ApiKey())

    key = ApiKey(name="reset-" + uid()).create()
    try:
        got = reset(ctx.sdk(), key.id)
        eq((got.id, got.name), (key.id, key.name), "reset key id/name")
        check(got.key and got.key.startswith("ak_") and got.key != key.key, "new secret %r" % (got.key,))
        eq(ctx.sdk(api_key=got.key).foundation.api_key().me().id, key.id, "the new secret authenticates")
        expect_status(ctx.sdk(api_key=key.key).foundation.account().me, 401, "the old secret after reset")
        check(not ApiKey(id=key.id).read().key.endswith(got.key[-20:]), "secret shown again on read")
        # A key may reset its own secret.
        own = reset(ctx.sdk(api_key=got.key), key.id)
        eq(ctx.sdk(api_key=own.key).foundation.api_key().me().id, key.id, "self-reset secret")
        expect_status(ctx.sdk(api_key=got.key).foundation.account().me, 401, "secret replaced by self-reset")
    finally:
        key.delete()


def missing_required_field_is_named(ctx):
    # POST /v3/users without email, POST /v3/api-keys without name: a validation_error whose
    # `fields` name the field, which the SDK shows in its exception ("Docs for 'email' field").
    for create, field in [(User(full_name="No Email " + uid()).create, "email"),
                          (ApiKey(status="ACTIVE").create, "name")]:
        err = expect_status(create, 400, "create without " + field)
        eq(err.content.get("type"), "validation_error", "error type without " + field)
        eq([f.get("name") for f in err.content.get("fields") or []], [field], "fields without " + field)
        check("'%s'" % field in str(err), "the SDK's error does not name %r: %s" % (field, err))


def api_key_last_login_time(ctx):
    # The SDK's own example does `k.last_login_time > 0`: a never-used key must carry 0.
    key = ApiKey(name="fresh-" + uid()).create()
    try:
        eq(key.last_login_time, 0, "last_login_time of a created key")
        eq(ApiKey(id=key.id).read().last_login_time, 0, "last_login_time of a never-used key")
        check(all(isinstance(k.last_login_time, int) for k in ApiKey().list()), "a listed key lacks last_login_time")
        ctx.sdk(api_key=key.key).foundation.account().me()
        used = ApiKey(id=key.id).read().last_login_time
        check(used > 0, "last_login_time after use: %r" % (used,))
    finally:
        key.delete()


SCENARIOS = [user_crud, user_list_filters_and_paging, api_key_crud_and_auth, api_key_owner_filter,
             user_invitation_crud, legacy_users_and_api_keys, legacy_groups_and_group_users,
             api_key_reset_secret_own_account, missing_required_field_is_named, api_key_last_login_time]
