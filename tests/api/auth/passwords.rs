//! RESET users change their password; password changes, INACTIVE, deletion and an admin's
//! reset end sessions at once.

use super::{app_with_clock, email, login, person, session, PASSWORD};
use crate::common::unique;
use serde_json::json;

const NEW: &str = "another fine password";

#[test]
fn a_reset_user_may_only_change_its_password_and_then_is_active() {
    let (app, _) = app_with_clock();
    let address = format!("{}@example.com", unique("r"));
    let made = app
        .post("/v3/users", &json!({"email": address}))
        .expect(201)
        .clone();
    assert_eq!(made["status"], "RESET");
    let generated = made["password"].as_str().unwrap();
    let r = login(&app, json!({"username": address, "password": generated}));
    let body = r.expect(200);
    assert_eq!(body["password_change_required"], true);
    let limited = app.with_key(body["token"].as_str().unwrap());
    let refused = limited.get("/v3/users/me");
    assert!(refused.expect_error(403)["message"]
        .as_str()
        .unwrap()
        .contains("change-password"));
    limited.get("/v3/accounts/me").expect_error(403);

    let change = |current: &str, new: &str| {
        limited.post(
            "/auth/change-password",
            &json!({"current_password": current, "new_password": new}),
        )
    };
    change("wrong password", NEW).expect_field_error(400, "current_password");
    let short = change(generated, "short");
    assert!(
        short.expect_field_error(400, "new_password")["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    change(generated, "password123").expect_field_error(400, "new_password");
    limited
        .post("/auth/change-password", &json!({}))
        .expect_fields_error(400, &["current_password", "new_password"]);
    change(generated, NEW).expect(204);

    let me = limited.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["status"], "ACTIVE");
    assert!(me["password_changed_time"].as_i64().unwrap() > 0);
    login(&app, json!({"username": address, "password": generated})).expect_error(401);
    let again = login(&app, json!({"username": address, "password": NEW}));
    assert_eq!(again.expect(200)["password_change_required"], false);
}

#[test]
fn the_accounts_minimum_length_applies_to_a_change() {
    let (app, _) = app_with_clock();
    app.put(
        "/v3/accounts/me",
        &json!({"password_policy": {"minimum_length": 30}}),
    )
    .expect(200);
    let user = person(
        &app,
        json!({"password": "a password of thirty characters!"}),
    );
    let me = app.with_key(
        login(
            &app,
            json!({"username": email(&user), "password": "a password of thirty characters!"}),
        )
        .expect(200)["token"]
            .as_str()
            .unwrap(),
    );
    let r = me.post(
        "/auth/change-password",
        &json!({"current_password": "a password of thirty characters!", "new_password": NEW}),
    );
    let body = r.expect_field_error(400, "new_password");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at least 30"),
        "{body}"
    );
}

#[test]
fn a_password_change_ends_the_users_other_sessions_but_not_its_own() {
    let (app, _) = app_with_clock();
    let user = person(&app, json!({}));
    let this = session(&app, email(&user));
    let other = session(&app, email(&user));
    this.post(
        "/auth/change-password",
        &json!({"current_password": PASSWORD, "new_password": NEW}),
    )
    .expect(204);
    this.get("/v3/users/me").expect(200);
    let r = other.get("/v3/users/me");
    r.expect_error(401);
    let listed = this
        .get("/v3/users/me?include=active_sessions")
        .expect(200)
        .clone();
    assert_eq!(listed["active_sessions"].as_array().unwrap().len(), 1);
}

#[test]
fn inactive_deleted_and_reset_users_lose_their_sessions_at_once() {
    let (app, _) = app_with_clock();
    let [inactive, deleted, reset] = [0, 1, 2].map(|_| person(&app, json!({})));
    let sessions = [&inactive, &deleted, &reset].map(|u| session(&app, email(u)));
    for s in &sessions {
        s.get("/v3/users/me").expect(200);
    }
    let path = |u: &serde_json::Value| format!("/v3/users/{}", u["id"].as_str().unwrap());
    app.put(&path(&inactive), &json!({"status": "INACTIVE"}))
        .expect(200);
    let r = sessions[0].get("/v3/users/me");
    assert_eq!(
        r.expect_error(401)["message"],
        "The session's user is not active."
    );
    app.delete(&path(&deleted)).expect(204);
    sessions[1].get("/v3/users/me").expect_error(401);
    app.put(&path(&reset), &json!({"status": "RESET"}))
        .expect(200);
    sessions[2].get("/v3/users/me").expect_error(401);
    // Back to ACTIVE: the ended session stays ended.
    app.put(&path(&inactive), &json!({"status": "ACTIVE"}))
        .expect(200);
    sessions[0].get("/v3/users/me").expect_error(401);
    // The RESET user logs in again for a password-change-only session.
    let r = login(
        &app,
        json!({"username": email(&reset), "password": PASSWORD}),
    );
    assert_eq!(r.expect(200)["password_change_required"], true);
    let r = login(
        &app,
        json!({"username": email(&inactive), "password": PASSWORD}),
    );
    r.expect(200);
}
