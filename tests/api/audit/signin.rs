//! Sign-in events in the audit trail: the person is the actor, with the client's address
//! and agent; a failed login says why, never with the password tried.

use super::{entries_for, field};
use crate::auth::totp::{code, enable};
use crate::auth::{app_with_clock, email, login, person, session, PASSWORD};
use serde_json::{json, Value};

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[test]
fn logins_password_changes_totp_and_logouts_are_recorded_with_the_person_as_actor() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let id = user["id"].as_str().unwrap().to_string();
    let wrong = "the wrong password tried";
    let r = app.anonymous().raw(
        "POST",
        "/auth/login",
        Some((
            "application/json",
            json!({"username": email(&user), "password": wrong})
                .to_string()
                .as_bytes(),
        )),
        &[("User-Agent", "audit-test/1.0")],
    );
    r.expect_error(401);
    let failed = entries_for(&app, &id).last().unwrap().clone();
    assert_eq!(failed["action"], "login_failed", "{failed}");
    assert_eq!(field(&failed, "reason")["new_value"], "wrong_password");
    assert_eq!(failed["actor"]["type"], "user");
    assert_eq!(failed["actor"]["id"], json!(id));
    assert_eq!(failed["ip_address"], "127.0.0.1");
    assert_eq!(failed["user_agent"], "audit-test/1.0");
    assert!(!failed.to_string().contains(wrong), "{failed}");
    assert!(!failed.to_string().contains(PASSWORD), "{failed}");

    let me = session(&app, email(&user));
    let ok = entries_for(&app, &id).last().unwrap().clone();
    assert_eq!(ok["action"], "login", "{ok}");
    assert_eq!(ok["actor"]["id"], json!(id));

    let (secret, scratch, _) = enable(&me, &clock);
    let on = entries_for(&app, &id).last().unwrap().clone();
    assert_eq!(on["action"], "totp_enabled", "{on}");
    assert_eq!(field(&on, "is_totp_enabled")["new_value"], true);
    clock.advance(60_000);
    let renewed_codes: Vec<String> = me
        .post(
            "/auth/totp/scratch-codes",
            &json!({"otp": code(&secret, &clock)}),
        )
        .expect(200)["totp_scratch_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let renewed = entries_for(&app, &id).last().unwrap().clone();
    assert_eq!(renewed["action"], "scratch_codes_renewed", "{renewed}");
    assert!(!renewed.to_string().contains(&scratch[0]));

    let body = json!({"current_password": PASSWORD, "new_password": "another long password"});
    me.post("/auth/change-password", &body).expect(204);
    let changed = entries_for(&app, &id).last().unwrap().clone();
    assert_eq!(changed["action"], "password_change", "{changed}");
    assert_eq!(field(&changed, "password")["new_value"], "(changed)");
    assert!(!changed.to_string().contains("another long password"));

    me.post("/auth/logout", &json!({})).expect(204);
    // A scratch code signs in: the login entry says which second factor it was.
    let body = json!({"username": email(&user), "password": "another long password",
        "otp": renewed_codes[0]});
    login(&app, body).expect(200);
    let all = entries_for(&app, &id);
    assert_eq!(
        field(all.last().unwrap(), "second_factor")["new_value"],
        "scratch_code"
    );
    assert_eq!(
        actions(&all),
        [
            "create",
            "login_failed",
            "login",
            "totp_enabled",
            "scratch_codes_renewed",
            "password_change",
            "logout",
            "login"
        ]
    );
    // Every sign-in entry has the request's id and the person's address.
    for e in &all[1..] {
        assert_eq!(e["ip_address"], "127.0.0.1", "{e}");
        assert!(
            e["request_id"].as_str().is_some_and(|r| r.len() == 32),
            "{e}"
        );
    }
}
