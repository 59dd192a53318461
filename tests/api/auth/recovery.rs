//! Password reset and email verification, following the links in the emails the server
//! writes to its outbox, as a person clicks them.

use super::{app_with_clock, email, login, minutes, person, session, PASSWORD};
use crate::common::{unique, TestApp};
use serde_json::json;
use std::time::{Duration, Instant};

const NEW: &str = "a brand new password";

/// The finished `.eml` files of the outbox, read while the server may be writing more:
/// emails still under their temporary name (or renamed meanwhile) are left for the next
/// look.
fn outbox(app: &TestApp) -> Vec<(String, String)> {
    let Ok(dir) = std::fs::read_dir(app.data_dir.join("outbox")) else {
        return Vec::new();
    };
    let mut files: Vec<(String, String)> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || !name.ends_with(".eml") {
                return None;
            }
            std::fs::read_to_string(e.path())
                .ok()
                .map(|text| (name, text))
        })
        .collect();
    files.sort();
    files
}

/// The `token=` of an email to `to` whose subject is `subject`, waiting for it
/// (`forgot-password` sends after answering).
fn token_in_email(app: &TestApp, to: &str, subject: &str) -> String {
    new_token_in_email(app, to, subject, &[])
}

/// The same, for a token not in `known` (a later email).
fn new_token_in_email(app: &TestApp, to: &str, subject: &str, known: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = outbox(app)
            .into_iter()
            .filter(|(_, text)| {
                text.contains(&format!("To: <{to}>\r\n"))
                    && text.contains(&format!("Subject: {subject}\r\n"))
            })
            .map(|(_, text)| {
                let at = text.find("token=").expect("a token= link") + "token=".len();
                text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            })
            .find(|t| !known.contains(&t.as_str()));
        if let Some(token) = found {
            return token;
        }
        assert!(Instant::now() < deadline, "no email {subject:?} to {to}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn emails_to(app: &TestApp, to: &str) -> usize {
    outbox(app)
        .iter()
        .filter(|(_, t)| t.contains(&format!("To: <{to}>\r\n")))
        .count()
}

#[test]
fn a_forgotten_password_is_reset_through_the_emailed_link_once() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let old_session = session(&app, email(&user));
    let r = app
        .anonymous()
        .post("/auth/forgot-password", &json!({"email": email(&user)}));
    r.expect(204);
    let token = token_in_email(&app, email(&user), "Reset your password");
    assert_eq!(token.len(), 43);
    // The request is in the audit trail (committed with the token, before the email).
    let asked = crate::audit::latest_about(&app, user["id"].as_str().unwrap());
    assert_eq!(asked["action"], "password_reset_requested", "{asked}");
    assert_eq!(asked["ip_address"], "127.0.0.1", "{asked}");
    assert!(!asked.to_string().contains(&token), "{asked}");
    // The log admins read does not hold the token.
    let log = app.get("/v3/accounts/me/notifications").expect(200).clone();
    assert!(!log.to_string().contains(&token));

    let reset = |password: &str| {
        app.anonymous().post(
            "/auth/reset-password",
            &json!({"token": token, "password": password}),
        )
    };
    reset("short").expect_field_error(400, "password");
    reset(NEW).expect(204);
    let entry = crate::audit::latest_about(&app, user["id"].as_str().unwrap());
    assert_eq!(entry["action"], "password_reset", "{entry}");
    assert_eq!(entry["actor"]["id"], user["id"]);
    assert!(!entry.to_string().contains(NEW) && !entry.to_string().contains(&token));
    reset("yet another password").expect_field_error(400, "token");
    old_session.get("/v3/users/me").expect_error(401);
    login(
        &app,
        json!({"username": email(&user), "password": PASSWORD}),
    )
    .expect_error(401);
    login(&app, json!({"username": email(&user), "password": NEW})).expect(200);
}

#[test]
fn an_unknown_email_gets_the_same_answer_and_no_email() {
    let (app, _) = app_with_clock();
    let nobody = format!("{}@example.com", unique("nobody"));
    let r = app
        .anonymous()
        .post("/auth/forgot-password", &json!({"email": nobody}));
    assert!(r.expect(204).is_null());
    // A known one, asked after, is sent; by then the unknown one would have been too.
    let user = person(&app, json!({}));
    app.anonymous()
        .post("/auth/forgot-password", &json!({"email": email(&user)}))
        .expect(204);
    token_in_email(&app, email(&user), "Reset your password");
    assert_eq!(emails_to(&app, &nobody), 0);
    app.anonymous()
        .post("/auth/forgot-password", &json!({"email": "not an email"}))
        .expect_field_error(400, "email");
}

#[test]
fn a_reset_link_expires_after_the_accounts_recovery_expiration_and_a_reset_user_becomes_active() {
    let (app, clock) = app_with_clock();
    app.put(
        "/v3/accounts/me",
        &json!({"password_recovery_expiration": 10}),
    )
    .expect(200);
    let address = format!("{}@example.com", unique("r"));
    app.post("/v3/users", &json!({"email": address}))
        .expect(201);
    let ask = |known: &[&str]| {
        app.anonymous()
            .post("/auth/forgot-password", &json!({"email": address}))
            .expect(204);
        new_token_in_email(&app, &address, "Reset your password", known)
    };
    let first = ask(&[]);
    clock.advance(minutes(11));
    let r = app.anonymous().post(
        "/auth/reset-password",
        &json!({"token": first, "password": NEW}),
    );
    r.expect_field_error(400, "token");
    let second = ask(&[&first]);
    clock.advance(minutes(9));
    app.anonymous()
        .post(
            "/auth/reset-password",
            &json!({"token": second, "password": NEW}),
        )
        .expect(204);
    let r = login(&app, json!({"username": address, "password": NEW}));
    assert_eq!(r.expect(200)["password_change_required"], false);
}

#[test]
fn the_validate_email_link_verifies_the_address() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["email_verified"], false);
    let account = user["account_id"].as_str().unwrap();
    let path = format!("/v3/accounts/{account}/users/{id}/validate-email");
    app.raw("POST", &path, Some(("application/json", b"")), &[])
        .expect(204);
    let token = token_in_email(&app, email(&user), "Please confirm your email address");
    let verify = || {
        app.anonymous()
            .post("/auth/verify-email", &json!({"token": token}))
    };
    verify().expect(204);
    assert_eq!(
        app.get(&format!("/v3/users/{id}")).expect(200)["email_verified"],
        true
    );
    let entry = crate::audit::latest_about(&app, id);
    assert_eq!(entry["action"], "email_verified", "{entry}");
    verify().expect_field_error(400, "token");
    // A reset token is not a verification token, and the other way round.
    app.anonymous()
        .post(
            "/auth/reset-password",
            &json!({"token": token, "password": NEW}),
        )
        .expect_field_error(400, "token");
}

#[test]
fn asking_again_and_again_cannot_flood_an_inbox() {
    let (app, clock) = super::app_with(|c| {
        c.auth.login_failures_per_user = 3;
        c.auth.lockout_secs = 60;
    });
    let user = person(&app, json!({}));
    let mut known: Vec<String> = Vec::new();
    for _ in 0..3 {
        app.anonymous()
            .post("/auth/forgot-password", &json!({"email": email(&user)}))
            .expect(204);
        let refs: Vec<&str> = known.iter().map(String::as_str).collect();
        known.push(new_token_in_email(
            &app,
            email(&user),
            "Reset your password",
            &refs,
        ));
    }
    app.anonymous()
        .post("/auth/forgot-password", &json!({"email": email(&user)}))
        .expect(204);
    // A later request is sent; the fourth never was.
    clock.advance(60_000);
    app.anonymous()
        .post("/auth/forgot-password", &json!({"email": email(&user)}))
        .expect(204);
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    new_token_in_email(&app, email(&user), "Reset your password", &refs);
    assert_eq!(emails_to(&app, email(&user)), 4);
}
