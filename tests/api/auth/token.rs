//! `POST /auth/token`: client credentials for a short-lived token with the key's rights.

use super::{app_with, minutes};
use crate::common::{non_admin, unique, Client, Resp};
use serde_json::json;

fn form(app: &Client, body: &str, headers: &[(&str, &str)]) -> Resp {
    app.anonymous().raw(
        "POST",
        "/auth/token",
        Some(("application/x-www-form-urlencoded", body.as_bytes())),
        headers,
    )
}

/// A new key of the admin; returns (full key, key id, public part).
fn new_key(app: &Client) -> (String, String, String) {
    let made = app
        .post("/v3/api-keys", &json!({"name": unique("k")}))
        .expect(201)
        .clone();
    let full = made["key"].as_str().unwrap().to_string();
    let id = made["id"].as_str().unwrap().to_string();
    let public = app.get(&format!("/v3/api-keys/{id}")).expect(200)["key"]
        .as_str()
        .unwrap()
        .to_string();
    (full, id, public)
}

#[test]
fn client_credentials_give_a_short_lived_token_with_the_keys_rights() {
    let (app, clock) = app_with(|c| c.auth.client_token_secs = 600);
    // The admin's own key (a member of Administrators).
    let full = app.admin_key.clone();
    let public = full[..full.len() - 32].to_string();
    let secret = &full[public.len()..];
    let r = form(
        &app,
        &format!("grant_type=client_credentials&client_id={public}&client_secret={secret}"),
        &[],
    );
    let body = r.expect(200).clone();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("rt_"));
    // A sign-in of the key, in the audit trail with the key as actor (never the secret).
    let key_id = app.get("/v3/api-keys/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let entry = crate::audit::latest_about(&app, &key_id);
    assert_eq!(entry["action"], "login", "{entry}");
    assert_eq!(entry["actor"]["type"], "api-key", "{entry}");
    assert_eq!(entry["actor"]["id"], json!(key_id), "{entry}");
    assert!(!entry.to_string().contains(secret) && !entry.to_string().contains(token));
    let as_key = app.with_key(token);
    // The key's rights: an admin key's token is an admin, and /api-keys/me is the key.
    as_key
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("c"))}),
        )
        .expect(201);
    assert_eq!(as_key.get("/v3/api-keys/me").expect(200)["key"], public);
    // HTTP Basic with the full key as the secret works too.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{public}:{full}"));
    let r = form(
        &app,
        "grant_type=client_credentials",
        &[("Authorization", &format!("Basic {basic}"))],
    );
    r.expect(200);
    // Short-lived, whatever the use.
    clock.advance(minutes(9));
    as_key.get("/v3/users/me").expect(200);
    clock.advance(minutes(1));
    as_key.get("/v3/users/me").expect_error(401);
}

#[test]
fn a_token_is_revoked_with_its_key_and_has_no_more_rights_than_it() {
    let (app, _) = app_with(|_| {});
    let (full, id, public) = new_key(&app);
    let get = |secret: &str| {
        let r = form(
            &app,
            &format!("grant_type=client_credentials&client_id={public}&client_secret={secret}"),
            &[],
        );
        app.with_key(r.expect(200)["access_token"].as_str().unwrap())
    };
    let path = format!("/v3/api-keys/{id}");
    let first = get(&full);
    app.put(&path, &json!({"name": "k", "status": "INACTIVE"}))
        .expect(200);
    first.get("/v3/users/me").expect_error(401);
    app.put(&path, &json!({"name": "k", "status": "ACTIVE"}))
        .expect(200);
    let second = get(&full);
    app.post(&format!("{path}/reset-secret"), &json!({}))
        .expect(200);
    second.get("/v3/users/me").expect_error(401);
    let (new_full, new_id, new_public) = new_key(&app);
    let r = form(
        &app,
        &format!("grant_type=client_credentials&client_id={new_public}&client_secret={new_full}"),
        &[],
    );
    let third = app.with_key(r.expect(200)["access_token"].as_str().unwrap());
    app.delete(&format!("/v3/api-keys/{new_id}")).expect(204);
    third.get("/v3/users/me").expect_error(401);

    // A developer's key: its token gets 403 on an admin route.
    let (dev, _) = non_admin(&app, true);
    let dev_key = dev.key.clone().unwrap();
    let dev_public = &dev_key[..dev_key.len() - 32];
    let r = form(
        &app,
        &format!("grant_type=client_credentials&client_id={dev_public}&client_secret={dev_key}"),
        &[],
    );
    let dev_token = app.with_key(r.expect(200)["access_token"].as_str().unwrap());
    dev_token.get("/v3/users/me").expect(200);
    dev_token
        .post("/v3/users", &json!({"email": "x@example.com"}))
        .expect_error(403);
}

#[test]
fn wrong_or_missing_credentials_and_grants_are_refused() {
    let (app, _) = app_with(|_| {});
    let (_, _, public) = new_key(&app);
    let wrong = form(
        &app,
        &format!(
            "grant_type=client_credentials&client_id={public}&client_secret={}",
            "x".repeat(32)
        ),
        &[],
    );
    assert_eq!(
        wrong.expect_error(401)["message"],
        "The client credentials are wrong."
    );
    form(&app, "client_id=a&client_secret=b", &[]).expect_field_error(400, "grant_type");
    form(&app, "grant_type=password&client_id=a&client_secret=b", &[])
        .expect_field_error(400, "grant_type");
    form(&app, "grant_type=client_credentials", &[])
        .expect_fields_error(400, &["client_id", "client_secret"]);
    form(
        &app,
        "grant_type=client_credentials&client_id=nonsense&client_secret=x",
        &[],
    )
    .expect_error(401);
}
