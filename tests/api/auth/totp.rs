//! TOTP: setup, confirmation, login with codes and scratch codes, turning it off, and
//! accounts that enforce it. Codes are computed here from the secret the server shows.

use super::{app_with_clock, email, login, person, session, PASSWORD};
use crate::common::Client;
use iamd::clock::Clock;
use serde_json::{json, Value};

pub fn code(secret: &str, clock: &Clock) -> String {
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    iamd::auth::totp::code_at(&raw, clock.now_millis())
}

/// Sets TOTP up for the session's user; returns the secret, the scratch codes and the code
/// that confirmed it.
pub fn enable(me: &Client, clock: &Clock) -> (String, Vec<String>, String) {
    let r = me.post("/auth/totp", &json!({}));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let secret = r.expect(200)["secret"].as_str().unwrap().to_string();
    let uri = r.body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    let confirmed_with = code(&secret, clock);
    let r = me.post("/auth/totp/confirm", &json!({"otp": confirmed_with}));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let codes: Vec<String> = r.expect(200)["totp_scratch_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, confirmed_with)
}

fn with_otp(user: &Value, otp: Option<&str>) -> Value {
    let mut body = json!({"username": email(user), "password": PASSWORD});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    body
}

#[test]
fn a_user_turns_totp_on_and_then_logs_in_with_a_code_or_a_scratch_code() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    // A wrong code does not confirm.
    me.post("/auth/totp", &json!({})).expect(200);
    me.post("/auth/totp/confirm", &json!({"otp": "000000"}))
        .expect_field_error(400, "otp");
    assert_eq!(me.get("/v3/users/me").expect(200)["is_totp_enabled"], false);
    let (secret, scratch, confirmed_with) = enable(&me, &clock);
    assert_eq!(me.get("/v3/users/me").expect(200)["is_totp_enabled"], true);
    me.post("/auth/totp", &json!({})).expect_error(409);

    let missing = login(&app, with_otp(&user, None));
    assert_eq!(missing.expect_field_error(401, "otp")["code"], 401);
    login(&app, with_otp(&user, Some("123456"))).expect_field_error(401, "otp");
    // The code just used to confirm is spent; the next step's code works once.
    login(&app, with_otp(&user, Some(&confirmed_with))).expect_field_error(401, "otp");
    clock.advance(30_000);
    let fresh = code(&secret, &clock);
    login(&app, with_otp(&user, Some(&fresh))).expect(200);
    login(&app, with_otp(&user, Some(&fresh))).expect_field_error(401, "otp");
    // A scratch code works once.
    login(&app, with_otp(&user, Some(&scratch[0]))).expect(200);
    login(&app, with_otp(&user, Some(&scratch[0]))).expect_field_error(401, "otp");
    // New scratch codes replace the old ones.
    clock.advance(30_000);
    let r = me.post(
        "/auth/totp/scratch-codes",
        &json!({"otp": code(&secret, &clock)}),
    );
    let renewed = r.expect(200)["totp_scratch_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(renewed.len(), 10);
    login(&app, with_otp(&user, Some(&scratch[1]))).expect_field_error(401, "otp");
    login(&app, with_otp(&user, Some(renewed[0].as_str().unwrap()))).expect(200);
}

#[test]
fn totp_is_turned_off_by_the_user_with_a_code_or_by_an_admin() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let me = session(&app, email(&user));
    let (secret, _, _) = enable(&me, &clock);
    me.put("/v3/users/me", &json!({"is_totp_enabled": false}))
        .expect_field_error(400, "otp");
    let wrong = me.put(
        "/v3/users/me",
        &json!({"is_totp_enabled": false, "otp": "000000"}),
    );
    // The body's code was read, and is wrong.
    let wrong = wrong.expect_field_error(400, "otp");
    assert!(wrong["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("wrong"));
    clock.advance(30_000);
    // The code may come in the X-OTP header.
    let body = json!({"is_totp_enabled": false}).to_string();
    let off = me.raw(
        "PUT",
        "/v3/users/me",
        Some(("application/json", body.as_bytes())),
        &[("X-OTP", &code(&secret, &clock))],
    );
    assert_eq!(off.expect(200)["is_totp_enabled"], false);
    login(&app, with_otp(&user, None)).expect(200);
    // On only through confirmation.
    me.put("/v3/users/me", &json!({"is_totp_enabled": true}))
        .expect_field_error(400, "is_totp_enabled");

    clock.advance(30_000);
    enable(&me, &clock);
    login(&app, with_otp(&user, None)).expect_field_error(401, "otp");
    let path = format!("/v3/users/{}", user["id"].as_str().unwrap());
    let reset = app.put(&path, &json!({"is_totp_enabled": false}));
    assert_eq!(reset.expect(200)["is_totp_enabled"], false);
    login(&app, with_otp(&user, None)).expect(200);
}

#[test]
fn an_account_that_enforces_totp_gives_a_setup_only_session_until_it_is_confirmed() {
    let (app, clock) = app_with_clock();
    app.put("/v3/accounts/me", &json!({"mfa_status": "enforced"}))
        .expect(200);
    let user = person(&app, json!({}));
    let r = login(&app, with_otp(&user, None));
    let body = r.expect(200);
    assert_eq!(body["totp_setup_required"], true);
    let me = app.with_key(body["token"].as_str().unwrap());
    let refused = me.get("/v3/users/me");
    assert!(refused.expect_error(403)["message"]
        .as_str()
        .unwrap()
        .contains("TOTP"));
    enable(&me, &clock);
    me.get("/v3/users/me").expect(200);
    clock.advance(30_000);
    let r = login(&app, with_otp(&user, Some("")));
    r.expect_field_error(401, "otp");
}
