//! Who sees what, and what the headers tell caches and browsers: sub-account details for
//! admins only, a developer certificate's private key for its owner and admins only,
//! `Cache-Control: no-store` on every response that carries a secret, `nosniff` everywhere.

use crate::common::{id_of, non_admin, spawn_app, unique, Resp, TestApp};
use serde_json::json;

const DEVELOPER: &str = "/v3/developer-certificates";

#[track_caller]
fn assert_no_store(resp: &Resp, what: &str) {
    assert_eq!(
        resp.header("cache-control"),
        Some("no-store"),
        "{what}: {:?}",
        resp.headers
    );
}

fn new_tenant(app: &TestApp, extra: serde_json::Value) -> Resp {
    let u = unique("t");
    let mut body = json!({
        "display_name": format!("tenant-{u}"),
        "end_market": "IT",
        "admin_email": format!("admin-{u}@example.com"),
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v3/accounts", &body)
}

#[test]
fn sub_account_details_are_for_admins_only() {
    let app = spawn_app();
    let tenant = new_tenant(&app, json!({})).expect(201).clone();
    let own = app
        .get("/v3/accounts/me?include=sub_accounts")
        .expect(200)
        .clone();
    assert_eq!(own["sub_accounts"][0]["id"], tenant["id"], "{own}");
    for developer in [true, false] {
        let (caller, _) = non_admin(&app, developer);
        let seen = caller.get("/v3/accounts/me?include=sub_accounts");
        let body = seen.expect(200);
        assert_eq!(body["id"], own["id"]);
        assert!(body.get("sub_accounts").is_none(), "{body}");
        for secret in [
            &tenant["id"],
            &tenant["display_name"],
            &tenant["admin_email"],
        ] {
            assert!(
                !seen.text.contains(secret.as_str().unwrap()),
                "{secret} leaked: {}",
                seen.text
            );
        }
        // Other includes are unaffected.
        let limits = caller
            .get("/v3/accounts/me?include=limits,sub_accounts")
            .expect(200)
            .clone();
        assert!(limits["limits"].is_object(), "{limits}");
        assert!(limits.get("sub_accounts").is_none(), "{limits}");
    }
}

#[test]
fn a_developer_private_key_is_shown_to_its_owner_and_admins_only() {
    let app = spawn_app();
    let (owner, _) = non_admin(&app, true);
    let (other, _) = non_admin(&app, true);
    let created = owner.post(DEVELOPER, &json!({"name": "board"}));
    assert_no_store(&created, "developer certificate create");
    let created = created.expect(201).clone();
    assert!(created["developer_private_key"].is_string());
    let path = format!("{DEVELOPER}/{}", id_of(&created));

    for (who, caller) in [("owner", &owner.clone()), ("admin", &app.client)] {
        let got = caller.get(&path);
        assert_no_store(&got, who);
        assert_eq!(got.expect(200).clone(), created, "{who}");
    }
    let seen = other.get(&path);
    let body = seen.expect(200).clone();
    assert_eq!(body["id"], created["id"]);
    assert_eq!(
        body["developer_certificate"],
        created["developer_certificate"]
    );
    for secret in ["developer_private_key", "security_file_content"] {
        assert!(
            body.get(secret).is_none(),
            "{secret} shown to another user: {:?}",
            body.as_object().unwrap().keys()
        );
    }
    assert!(
        !seen.text.contains("PRIVATE KEY"),
        "a private key in the body"
    );
}

#[test]
fn responses_with_secrets_are_not_stored_by_caches() {
    let app = spawn_app();
    let key = app.post("/v3/api-keys", &json!({"name": unique("k")}));
    assert_no_store(&key, "api key create");
    key.expect(201);

    let tenant = new_tenant(&app, json!({}));
    assert_no_store(&tenant, "tenant create");
    let tenant = tenant.expect(201).clone();
    assert!(tenant["admin_key"].is_string() && tenant["admin_password"].is_string());
    let t = id_of(&tenant);
    let tenant_key = app.post(
        &format!("/v3/accounts/{t}/api-keys"),
        &json!({"name": unique("tk")}),
    );
    assert_no_store(&tenant_key, "tenant api key create");
    let reset = app.post(
        &format!(
            "/v3/accounts/{t}/api-keys/{}/reset-secret",
            id_of(tenant_key.expect(201))
        ),
        &json!({}),
    );
    assert_no_store(&reset, "reset-secret");
    assert_eq!(reset.expect(200)["key"].as_str().unwrap().len(), 111);

    let user = app.post(
        "/v3/users",
        &json!({"email": format!("{}@example.com", unique("gen"))}),
    );
    assert_no_store(&user, "user create with a generated password");
    assert!(user.expect(201)["password"].is_string());
    let tenant_user = app.post(
        &format!("/v3/accounts/{t}/users"),
        &json!({"email": format!("{}@example.com", unique("gen"))}),
    );
    assert_no_store(&tenant_user, "tenant user create with a generated password");
}

#[test]
fn every_response_says_nosniff_and_plain_http_sends_no_hsts() {
    let app = spawn_app();
    let anonymous = app.anonymous();
    for resp in [
        app.get("/v3/accounts/me"),
        app.get("/health"),
        app.get("/v3/no-such-route"),
        app.delete("/v3/accounts/me"),
        anonymous.get("/v3/users"),
        app.post("/v3/users", &json!({"email": "not an email"})),
    ] {
        assert_eq!(
            resp.header("x-content-type-options"),
            Some("nosniff"),
            "{} {:?}",
            resp.status,
            resp.headers
        );
        assert_eq!(resp.header("strict-transport-security"), None);
    }
}

/// PBKDF2 iterations of an encoded `auth::password` hash (`[1][iterations u32 BE]...`).
fn iterations(hash: &[u8]) -> u32 {
    assert_eq!(hash[0], 1, "hash format");
    u32::from_be_bytes(hash[1..5].try_into().unwrap())
}

#[test]
fn chosen_passwords_are_stored_with_at_least_600000_iterations() {
    let app = spawn_app();
    let account = id_of(app.get("/v3/accounts/me").expect(200));
    let chosen = app
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("c")),
                    "password": "a long enough password"}),
        )
        .expect(201)
        .clone();
    let generated = app
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("g"))}),
        )
        .expect(201)
        .clone();
    let tenant = new_tenant(
        &app,
        json!({"admin_password": "the tenant admin's password"}),
    )
    .expect(201)
    .clone();
    let dir = app.stop().expect("the temp dir");
    let store = crate::owner_rights::reopen(dir.path());
    let hash_of = |account: &str, user: &str| {
        let id = |s: &str| iamd::ids::Id::parse(s).unwrap();
        store
            .users
            .get(&id(account), &id(user))
            .unwrap()
            .expect("the user")
            .password_hash
            .expect("a hash")
    };
    assert!(iterations(&hash_of(&account, &id_of(&chosen))) >= 600_000);
    let tenant_admin = hash_of(&id_of(&tenant), tenant["admin_id"].as_str().unwrap());
    assert!(iterations(&tenant_admin) >= 600_000);
    // A generated password (~143 random bits) keeps its cheap hash (see auth::password).
    assert_eq!(iterations(&hash_of(&account, &id_of(&generated))), 1);
}
