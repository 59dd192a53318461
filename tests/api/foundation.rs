//! First start, authentication, the error conventions and the `me` routes.

use crate::common::{spawn_app, spawn_app_with, start_in_process, test_config, Client};
use serde_json::json;

#[test]
fn first_start_bootstraps_once_and_writes_the_key_file() {
    let app = spawn_app();
    let key_file = app.data_dir.join("admin-api-key");
    let stored = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(stored.trim(), app.admin_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file must be private");
    }
    let account = app.get("/v3/accounts/me").expect(200).clone();
    let users = app.get("/v3/users?include=total_count").expect(200).clone();
    assert_eq!(users["total_count"], 1);
    let admin = app.get("/v3/users/me").expect(200).clone();
    assert_eq!(admin["status"], "ACTIVE");
    assert_eq!(admin["groups"].as_array().unwrap().len(), 1);

    let data_dir = app.data_dir.clone();
    let dir = app.stop().unwrap();
    // Second start on the same data dir: nothing new, no secret issued.
    let again = start_in_process(test_config(&data_dir));
    assert_eq!(
        again.get("/v3/accounts/me").expect(200)["id"],
        account["id"]
    );
    let users_again = again.get("/v3/users").expect(200).clone();
    assert_eq!(users_again["total_count"], 1);
    assert_eq!(users_again["data"][0]["id"], admin["id"]);
    drop(again);
    drop(dir);
}

#[test]
fn health_answers_without_credentials() {
    let app = spawn_app();
    let body = app.anonymous().get("/health").expect(200).clone();
    assert_eq!(body["status"], "ok");
}

#[test]
fn authentication_failures_are_401_error_responses() {
    let app = spawn_app();
    let anon = app.anonymous();
    anon.get("/v3/accounts/me").expect_error(401);
    let r = anon.raw(
        "GET",
        "/v3/accounts/me",
        None,
        &[("Authorization", "Basic abc")],
    );
    r.expect_error(401);
    app.with_key("ak_garbage")
        .get("/v3/users/me")
        .expect_error(401);
    // Well-formed, right account and key id, wrong secret.
    let mut forged = app.admin_key.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    app.with_key(&forged).get("/v3/users/me").expect_error(401);
    // The public part alone is not a credential.
    let public = app.get("/v3/api-keys/me").expect(200)["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(app.admin_key.starts_with(&public) && public.len() < app.admin_key.len());
    app.with_key(&public).get("/v3/users/me").expect_error(401);
}

#[test]
fn an_inactive_key_is_rejected_at_once() {
    let app = spawn_app();
    app.put(
        "/v3/api-keys/me",
        &json!({"name": "soon off", "status": "INACTIVE"}),
    )
    .expect(200);
    app.get("/v3/api-keys/me").expect_error(401);
}

#[test]
fn every_error_class_is_an_error_response() {
    let app = spawn_app_with(|c| c.max_json_body_bytes = 4096);
    app.get("/v3/no-such-thing").expect_error(404);
    app.anonymous().get("/nope").expect_error(404);
    app.delete("/v3/accounts/me").expect_error(405);
    app.raw("PATCH", "/v3/users/me", None, &[])
        .expect_error(405);
    let bad_json = app.raw(
        "PUT",
        "/v3/users/me",
        Some(("application/json", b"{\"full_name\": ")),
        &[],
    );
    bad_json.expect_bad_request("Malformed JSON body");
    let not_object = app.raw(
        "PUT",
        "/v3/users/me",
        Some(("application/json", b"[1,2]")),
        &[],
    );
    not_object.expect_bad_request("The request body must be a JSON object.");
    let empty = app.raw("PUT", "/v3/users/me", Some(("application/json", b"")), &[]);
    empty.expect_bad_request("A JSON request body is required.");
    let wrong_type = app.put("/v3/users/me", &json!({"full_name": 42}));
    wrong_type.expect_field_error(400, "full_name");
    let big = json!({"full_name": "x".repeat(8000)});
    app.put("/v3/users/me", &big).expect_error(413);
    let too_long = app.put("/v3/users/me", &json!({"full_name": "x".repeat(101)}));
    too_long.expect_field_error(400, "full_name");
    app.get("/v3/users?limit=abc")
        .expect_field_error(400, "limit");
    app.get("/v3/users?after=not-an-id")
        .expect_field_error(400, "after");
    app.get("/v3/users/not-an-id").expect_error(404);
    app.get("/v3/users/0123456789abcdef0123456789abcdef")
        .expect_error(404);
    app.post("/v3/users?action=explode", &json!({"email": "a@b.c"}))
        .expect_field_error(400, "action");
    // Nothing above changed the user.
    let me = app.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["etag"], "1");
    assert_eq!(me["full_name"], "Administrator");
}

#[test]
fn account_profile_reads_and_updates() {
    let app = spawn_app();
    let me = app
        .get("/v3/accounts/me?include=policies,limits")
        .expect(200)
        .clone();
    for field in [
        "id",
        "object",
        "status",
        "tier",
        "end_market",
        "etag",
        "created_at",
    ] {
        assert!(!me[field].is_null(), "missing {field}: {me}");
    }
    assert_eq!(me["object"], "account");
    assert!(
        me["policies"].is_array() && me["limits"].is_object(),
        "{me}"
    );
    assert!(app.get("/v3/accounts/me").expect(200)["policies"].is_null());

    let updated = app
        .put(
            "/v3/accounts/me",
            &json!({"display_name": "Acme", "phone_number": "+44 1", "idle_timeout": 30}),
        )
        .expect(200)
        .clone();
    assert_eq!(updated["display_name"], "Acme");
    assert_eq!(updated["idle_timeout"], 30);
    assert_eq!(updated["etag"], "2");
    // Clients echo what they read: the whole read model is accepted.
    let echoed = app.put("/v3/accounts/me", &updated).expect(200).clone();
    assert_eq!(echoed["display_name"], "Acme");
    assert_eq!(echoed["etag"], "3");
    let bad = app.put(
        "/v3/accounts/me",
        &json!({"idle_timeout": 500, "email": "nope", "aliases": ["x"]}),
    );
    bad.expect_fields_error(400, &["email", "aliases", "idle_timeout"]);
    assert_eq!(app.get("/v3/accounts/me").expect(200)["etag"], "3");
}

#[test]
fn own_user_reads_and_updates() {
    let app = spawn_app();
    let me = app.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["object"], "user");
    assert!(me.get("password").is_none() && me.get("password_hash").is_none());
    let updated = app
        .put(
            "/v3/users/me",
            &json!({"full_name": "Ada Lovelace", "phone_number": "123", "address": null}),
        )
        .expect(200)
        .clone();
    assert_eq!(updated["full_name"], "Ada Lovelace");
    assert_eq!(updated["etag"], "2");
    // The whole read model echoed back, less `login_profiles: []`: the document refuses an
    // empty list ("The list cannot be empty").
    let mut echo = updated.clone();
    echo.as_object_mut().unwrap().remove("login_profiles");
    let echoed = app.put("/v3/users/me", &echo).expect(200).clone();
    assert_eq!(echoed["phone_number"], "123");
    app.put("/v3/users/me", &json!({"email": "bad"}))
        .expect_field_error(400, "email");
    app.put("/v3/users/me", &json!({"username": "no spaces here"}))
        .expect_field_error(400, "username");
    app.put("/v3/users/me", &json!({"status": "SLEEPING"}))
        .expect_field_error(400, "status");
    let renamed = app
        .put("/v3/users/me", &json!({"email": "Root@Example.com"}))
        .expect(200)
        .clone();
    assert_eq!(renamed["email"], "Root@Example.com");
}

#[test]
fn own_api_key_reads_and_updates() {
    let app = spawn_app();
    let key = app.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(key["object"], "api-key");
    assert_eq!(key["status"], "ACTIVE");
    let public = key["key"].as_str().unwrap();
    assert!(public.starts_with("ak_"), "{key}");
    assert!(
        !public.contains(&app.admin_key[public.len()..]),
        "secret shown"
    );
    let renamed = app
        .put("/v3/api-keys/me", &json!({"name": "laptop"}))
        .expect(200)
        .clone();
    assert_eq!(renamed["name"], "laptop");
    assert_eq!(renamed["etag"], "2");
    assert_eq!(renamed["key"], key["key"]);
    app.put("/v3/api-keys/me", &json!({"name": "x".repeat(101)}))
        .expect_field_error(400, "name");
    app.put(
        "/v3/api-keys/me",
        &json!({"name": "laptop", "status": "MAYBE"}),
    )
    .expect_field_error(400, "status");
    // The last_login_time of the key shows use without any write per request.
    let seen = app.get("/v3/api-keys/me").expect(200).clone();
    assert!(seen["last_login_time"].as_i64().unwrap() >= key["creation_time"].as_i64().unwrap());
}

#[test]
fn every_response_carries_a_request_id() {
    let app = spawn_app();
    let a = app.get("/v3/users/me");
    let b = app.get("/v3/users/me");
    let (ida, idb) = (
        a.header("x-request-id").unwrap(),
        b.header("x-request-id").unwrap(),
    );
    assert_eq!(ida.len(), 32);
    assert_ne!(ida, idb);
}

#[test]
fn a_client_for_another_server_cannot_reuse_keys() {
    let one = spawn_app();
    let two = spawn_app();
    Client::new(&two.client.base, Some(&one.admin_key))
        .get("/v3/accounts/me")
        .expect_error(401);
}

#[test]
fn a_created_key_is_shown_once_and_works_without_admin_rights() {
    let app = spawn_app();
    let (member, user_id) = crate::common::non_admin(&app, false);
    let me = member.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["id"], user_id.as_str());
    let key = member.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(key["owner"], user_id.as_str());
    assert!(member
        .key
        .as_deref()
        .unwrap()
        .starts_with(key["key"].as_str().unwrap()));
    assert_ne!(
        member.key.as_deref(),
        key["key"].as_str(),
        "the secret is not shown again"
    );
    // Admin-only operations are 403 for it.
    member
        .put("/v3/accounts/me", &json!({"display_name": "mine"}))
        .expect_error(403);
    member
        .post("/v3/users", &json!({"email": "x@y.z"}))
        .expect_error(403);
    member
        .put(
            "/v3/api-keys/me",
            &json!({"name": "renamed", "status": "INACTIVE"}),
        )
        .expect_error(403);
    member
        .put("/v3/users/me", &json!({"status": "INACTIVE"}))
        .expect_error(403);
    // But its own profile is its own.
    member
        .put("/v3/users/me", &json!({"full_name": "Dev"}))
        .expect(200);
    member
        .put("/v3/api-keys/me", &json!({"name": "renamed"}))
        .expect(200);
    // A non-admin cannot mint keys for others or into Administrators.
    let admin_id = app.get("/v3/users/me").expect(200)["id"].clone();
    member
        .post("/v3/api-keys", &json!({"name": "x", "owner": admin_id}))
        .expect_error(403);
    let admin_groups = app.get("/v3/users/me").expect(200)["groups"].clone();
    member
        .post(
            "/v3/api-keys",
            &json!({"name": "x", "groups": admin_groups}),
        )
        .expect_error(403);
    member
        .post("/v3/api-keys", &json!({"name": "own"}))
        .expect(201);
}
