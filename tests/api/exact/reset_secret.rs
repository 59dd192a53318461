//! `POST /v3/api-keys/{apikey_id}/reset-secret`: the own-account twin of the tenant route.
//! The document states no extra rule on who may call it, so it follows the other by-id key
//! operations (update, delete): admins reset any key of the account, other callers only
//! keys they own (their own key included).

use super::{new_key, new_tenant};
use crate::common::{id_of, non_admin, spawn_app, unique};
use serde_json::{json, Value};

fn key_of(v: &Value) -> String {
    v["key"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

#[test]
fn an_admin_resets_a_key_of_its_account_and_the_old_secret_stops_at_once() {
    let app = spawn_app();
    let created = new_key(&app, json!({"name": unique("k")}));
    let (id, old) = (id_of(&created), key_of(&created));
    app.with_key(&old).get("/v3/accounts/me").expect(200);

    let path = format!("/v3/api-keys/{id}/reset-secret");
    let reset = app.raw("POST", &path, None, &[]).expect(200).clone();
    assert_eq!(reset["object"], "api-key");
    assert_eq!(reset["id"], id.as_str());
    assert_eq!(reset["name"], created["name"]);
    assert_eq!(reset["etag"], "2");
    let new = key_of(&reset);
    assert_eq!(new.len(), 111, "the full new key, once: {reset}");
    assert_ne!(new, old);
    assert_eq!(new[..79], old[..79], "the public part stays");
    app.with_key(&old).get("/v3/accounts/me").expect_error(401);
    app.with_key(&new).get("/v3/accounts/me").expect(200);
    let read = app.get(&format!("/v3/api-keys/{id}")).expect(200).clone();
    assert_eq!(key_of(&read).len(), 79, "never shown again: {read}");

    // A JSON body is accepted and ignored (the spec's `Request body` is empty).
    let again = app.post(&path, &json!({})).expect(200).clone();
    app.with_key(&new).get("/v3/accounts/me").expect_error(401);
    app.with_key(&key_of(&again))
        .get("/v3/accounts/me")
        .expect(200);
}

#[test]
fn a_key_may_reset_its_own_secret_and_a_non_admin_only_its_own_keys() {
    let app = spawn_app();
    let (dev, dev_user) = non_admin(&app, true);
    let own = dev.get("/v3/api-keys/me").expect(200).clone();
    let own_path = format!("/v3/api-keys/{}/reset-secret", id_of(&own));
    let reset = dev.post(&own_path, &json!({})).expect(200).clone();
    assert_eq!(reset["owner"], dev_user.as_str());
    dev.get("/v3/api-keys/me").expect_error(401);
    let dev = dev.with_key(&key_of(&reset));
    dev.get("/v3/api-keys/me").expect(200);

    // Another key of the same user: the user owns it, so it may reset it.
    let second = new_key(&app, json!({"name": unique("k"), "owner": dev_user}));
    dev.post(
        &format!("/v3/api-keys/{}/reset-secret", id_of(&second)),
        &json!({}),
    )
    .expect(200);

    // The admin's key is not the developer's: 403, and the admin key still works.
    let admin_key = app.get("/v3/api-keys/me").expect(200).clone();
    let refused = dev.post(
        &format!("/v3/api-keys/{}/reset-secret", id_of(&admin_key)),
        &json!({}),
    );
    assert_eq!(refused.expect_error(403)["type"], "forbidden");
    app.get("/v3/accounts/me").expect(200);
    let after = app.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(
        after["etag"], admin_key["etag"],
        "a refused reset changes nothing"
    );
}

#[test]
fn unknown_foreign_and_anonymous_resets_are_refused() {
    let app = spawn_app();
    let unknown = app.post(
        "/v3/api-keys/0123456789abcdef0123456789abcdef/reset-secret",
        &json!({}),
    );
    assert_eq!(unknown.expect_error(404)["type"], "not_found");
    app.post("/v3/api-keys/not-an-id/reset-secret", &json!({}))
        .expect_error(404);

    // A sub-tenant's key is not a key of the caller's own account.
    let tenant = new_tenant(&app);
    let tenant_key = app
        .with_key(tenant["admin_key"].as_str().unwrap())
        .get("/v3/api-keys/me")
        .expect(200)
        .clone();
    let foreign = format!("/v3/api-keys/{}/reset-secret", id_of(&tenant_key));
    app.post(&foreign, &json!({})).expect_error(404);
    app.with_key(tenant["admin_key"].as_str().unwrap())
        .get("/v3/accounts/me")
        .expect(200);

    let created = new_key(&app, json!({"name": unique("k")}));
    let path = format!("/v3/api-keys/{}/reset-secret", id_of(&created));
    app.anonymous().post(&path, &json!({})).expect_error(401);
    app.with_key(&key_of(&created))
        .get("/v3/accounts/me")
        .expect(200);
}
