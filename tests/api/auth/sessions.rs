//! `POST /auth/login`, `POST /auth/logout` and `rt_` tokens on `/v3`.

use super::{app_with, app_with_clock, email, login, minutes, person, session, PASSWORD};
use crate::common::{id_of, spawn_app, unique};
use serde_json::json;

#[test]
fn a_person_logs_in_and_the_token_has_the_users_rights_on_v3() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let r = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD}),
    );
    let body = r.expect(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(body["object"], "user-session");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800, "the default idle timeout: {body}");
    assert_eq!(body["user_id"], user["id"]);
    assert_eq!(body["account_id"], user["account_id"]);
    assert_eq!(body["password_change_required"], false);
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("rt_") && token.len() == 51, "{token}");

    let me = app.with_key(token);
    assert_eq!(me.get("/v3/users/me").expect(200)["id"], user["id"]);
    assert_eq!(
        me.get("/v3/accounts/me").expect(200)["id"],
        user["account_id"]
    );
    // Not an admin: a user without Administrators gets 403 on an admin route.
    let refused = me.post("/v3/users", &json!({"email": "x@example.com"}));
    refused.expect_error(403);
    // The admin's session is an admin, as the admin's key is.
    let admin = session(&app, "admin");
    admin
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("n"))}),
        )
        .expect(201);
    // A person's session has no API key of its own.
    me.get("/v3/api-keys/me").expect_error(404);
}

#[test]
fn the_username_or_email_names_the_user_and_the_account_is_needed_only_when_ambiguous() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let account = user["account_id"].as_str().unwrap();
    login(
        &app,
        json!({"username": user["username"], "password": PASSWORD}),
    )
    .expect(200);
    login(
        &app,
        json!({"username": email(&user).to_uppercase(), "password": PASSWORD, "account": account}),
    )
    .expect(200);
    // The same email in a tenant: without an account the email is ambiguous.
    let tenant = app
        .post(
            "/v3/accounts",
            &crate::tenants::tenant_body(
                json!({"admin_email": email(&user), "aliases": [unique("alias")]}),
            ),
        )
        .expect(201)
        .clone();
    let ambiguous = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD}),
    );
    assert_eq!(
        ambiguous.expect_error(401)["message"],
        "The username, password or account is wrong."
    );
    let r = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD, "account": account}),
    );
    assert_eq!(r.expect(200)["user_id"], user["id"]);
    let alias = tenant["aliases"][0].as_str().unwrap();
    let r = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD, "account": alias}),
    );
    assert_eq!(r.expect(200)["account_id"], tenant["id"]);
}

#[test]
fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let wrong = login(
        &app,
        json!({"username": email(&user), "password": "not the password"}),
    );
    let unknown = login(
        &app,
        json!({"username": "nobody@example.com", "password": "not the password"}),
    );
    let mut bodies = [
        wrong.expect_error(401).clone(),
        unknown.expect_error(401).clone(),
    ];
    for b in &mut bodies {
        b["request_id"] = json!(null);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(
        wrong.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
    let missing = login(&app, json!({"username": ""}));
    missing.expect_fields_error(400, &["username", "password"]);
}

#[test]
fn logout_ends_the_session_at_once() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    let other = session(&app, email(&user));
    me.post("/auth/logout", &json!({})).expect(204);
    let after = me.get("/v3/users/me");
    assert_eq!(
        after.expect_error(401)["message"],
        "The session token is not valid."
    );
    me.post("/auth/logout", &json!({})).expect_error(401);
    other.get("/v3/users/me").expect(200);
    // An API key is no session.
    app.post("/auth/logout", &json!({}))
        .expect_bad_request("session token");
    app.anonymous()
        .post("/auth/logout", &json!({}))
        .expect_error(401);
    app.get("/auth/login").expect_error(405);
}

/// The reference of one of the user's `active_sessions` ends that session only (the
/// console's sign-out of a chosen session); another user's session or a gone one is a 400
/// naming `reference_token`, and ends nothing.
#[test]
fn logout_of_a_reference_token_ends_that_one_of_ones_own_sessions() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    clock.advance(1_000);
    let a = session(&app, email(&user));
    clock.advance(1_000);
    let b = session(&app, email(&user));
    let refs = |c: &crate::common::Client| -> Vec<String> {
        c.get("/v3/users/me?include=active_sessions").expect(200)["active_sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reference_token"].as_str().unwrap().to_string())
            .collect()
    };
    let before = refs(&me);
    assert_eq!(before.len(), 3);
    // Oldest login first: me, a, b.
    let a_ref = before[1].clone();
    me.post("/auth/logout", &json!({"reference_token": a_ref}))
        .expect(204);
    a.get("/v3/users/me").expect_error(401);
    b.get("/v3/users/me").expect(200);
    assert_eq!(refs(&me), vec![before[0].clone(), before[2].clone()]);
    me.post("/auth/logout", &json!({"reference_token": a_ref}))
        .expect_field_error(400, "reference_token");
    let other = person(&app, json!({}));
    let theirs = session(&app, email(&other));
    let their_ref = refs(&theirs)[0].clone();
    me.post("/auth/logout", &json!({"reference_token": their_ref}))
        .expect_field_error(400, "reference_token");
    theirs.get("/v3/users/me").expect(200);
    for bad in [json!("nope"), json!(7)] {
        me.post("/auth/logout", &json!({"reference_token": bad}))
            .expect_field_error(400, "reference_token");
    }
    assert_eq!(refs(&me).len(), 2);
}

#[test]
fn a_session_expires_after_the_idle_timeout_without_use() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    for _ in 0..3 {
        clock.advance(minutes(29));
        me.get("/v3/users/me").expect(200);
    }
    clock.advance(minutes(30));
    let r = me.get("/v3/users/me");
    assert_eq!(r.expect_error(401)["message"], "The session has expired.");
    // The account's own idle_timeout decides.
    app.put("/v3/accounts/me", &json!({"idle_timeout": 5}))
        .expect(200);
    let me = session(&app, email(&user));
    clock.advance(minutes(4));
    me.get("/v3/users/me").expect(200);
    clock.advance(minutes(5));
    me.get("/v3/users/me").expect_error(401);
    let r = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD}),
    );
    assert_eq!(r.expect(200)["expires_in"], 300);
}

#[test]
fn a_session_ends_at_its_absolute_maximum_however_often_it_is_used() {
    let (app, clock) = app_with(|c| c.auth.session_max_hours = 1);
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    for _ in 0..5 {
        clock.advance(minutes(11));
        me.get("/v3/users/me").expect(200);
    }
    clock.advance(minutes(5));
    let r = me.get("/v3/users/me");
    assert_eq!(r.expect_error(401)["message"], "The session has expired.");
}

#[test]
fn a_made_up_or_malformed_token_is_refused() {
    let app = spawn_app();
    let fake = format!("rt_{}", "A".repeat(48));
    let r = app.with_key(&fake).get("/v3/users/me");
    assert_eq!(
        r.expect_error(401)["message"],
        "The session token is not valid."
    );
    let r = app.with_key("rt_short").get("/v3/users/me");
    assert_eq!(
        r.expect_error(401)["message"],
        "The session token is malformed."
    );
    let _ = id_of;
}

#[test]
fn a_session_and_its_last_use_outlive_a_restart() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    clock.advance(minutes(20));
    me.get("/v3/users/me").expect(200);
    let token = me.key.clone().unwrap();
    let data_dir = app.data_dir.clone();
    let dir = app.stop();
    let mut config = crate::common::test_config(&data_dir);
    config.auth.clock = clock.clone();
    let again = crate::common::start_in_process(config);
    // 20 minutes after the last use (40 after login): alive, as the use was kept.
    clock.advance(minutes(20));
    let me = again.with_key(&token);
    me.get("/v3/users/me").expect(200);
    clock.advance(minutes(31));
    me.get("/v3/users/me").expect_error(401);
    drop(again);
    drop(dir);
}
