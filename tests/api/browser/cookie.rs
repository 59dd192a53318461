//! The console's session cookie: HttpOnly, SameSite=Strict, only for full sign-in sessions,
//! and honoured only together with the `X-IAMD-CSRF` header.

use crate::auth::{app_with_clock, person, PASSWORD};
use serde_json::json;

fn login(app: &crate::common::TestApp, username: &str) -> String {
    let r = crate::auth::login(app, json!({"username": username, "password": PASSWORD}));
    r.expect(200)["token"].as_str().unwrap().to_string()
}

/// The `iamd_session=...` pair of a Set-Cookie header.
fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[test]
fn the_cookie_authorizes_only_with_the_csrf_header() {
    let (app, _clock) = app_with_clock();
    let u = person(&app, json!({}));
    let token = login(&app, u["username"].as_str().unwrap());
    let r = app.with_key(&token).post("/console/session", &json!({}));
    assert_eq!(r.status, 204, "{}", r.text);
    let set = r.header("set-cookie").expect("a cookie").to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = cookie_of(&set);
    let anon = app.anonymous();
    let without = anon.raw("GET", "/v3/users/me", None, &[("Cookie", &cookie)]);
    assert_eq!(without.expect_error(401)["object"], "error");
    let with = anon.raw(
        "GET",
        "/v3/users/me",
        None,
        &[("Cookie", &cookie), ("X-IAMD-CSRF", "1")],
    );
    assert_eq!(with.expect(200)["id"], u["id"]);
    let state = anon.raw(
        "GET",
        "/console/session",
        None,
        &[("Cookie", &cookie), ("X-IAMD-CSRF", "1")],
    );
    assert_eq!(state.expect(200)["signed_in"], true);
    // Once the session ends, the cookie is worth nothing.
    app.with_key(&token)
        .post("/auth/logout", &json!({}))
        .expect(204);
    let after = anon.raw(
        "GET",
        "/v3/users/me",
        None,
        &[("Cookie", &cookie), ("X-IAMD-CSRF", "1")],
    );
    after.expect_error(401);
}

#[test]
fn an_api_key_is_never_kept_in_the_cookie() {
    let (app, _clock) = app_with_clock();
    let r = app.post("/console/session", &json!({}));
    assert_eq!(r.expect_error(403)["object"], "error");
    assert!(r.header("set-cookie").is_none());
}

#[test]
fn a_session_limited_to_a_password_change_is_not_kept() {
    let (app, _clock) = app_with_clock();
    let u = person(&app, json!({}));
    let id = u["id"].as_str().unwrap();
    app.put(&format!("/v3/users/{id}"), &json!({"status": "RESET"}))
        .expect(200);
    let token = login(&app, u["username"].as_str().unwrap());
    let r = app.with_key(&token).post("/console/session", &json!({}));
    r.expect_error(403);
    assert!(r.header("set-cookie").is_none());
}
