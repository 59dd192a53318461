//! Invitations accepted through the emailed token.

use super::{app_with_clock, login, PASSWORD};
use crate::common::{id_of, unique, TestApp};
use crate::users::email_to;
use serde_json::json;

const CHOSEN: &str = "my own fine password";

fn token_of(eml: &str) -> String {
    let at = eml.find("token=").expect("a token= link") + "token=".len();
    eml[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn invite(app: &TestApp, base: &str, email: &str) -> serde_json::Value {
    app.post(
        &format!("{base}/user-invitations"),
        &json!({"email": email}),
    )
    .expect(201)
    .clone()
}

#[test]
fn an_invited_user_accepts_with_a_password_once() {
    let (app, _) = app_with_clock();
    let email = format!("{}@example.com", unique("inv"));
    let invitation = invite(&app, "/v3", &email);
    let token = token_of(&email_to(&app, &email));
    let shown = app.anonymous().get(&format!("/auth/invitations/{token}"));
    let body = shown.expect(200).clone();
    assert_eq!(body["email"], email.as_str());
    assert_eq!(body["account_id"], invitation["account_id"]);
    assert!(body["expiration"].as_str().unwrap().ends_with('Z'));
    assert!(body.get("account_display_name").is_some());

    let accept = |b: serde_json::Value| {
        app.anonymous()
            .post(&format!("/auth/invitations/{token}/accept"), &b)
    };
    accept(json!({"password": "short"})).expect_field_error(400, "password");
    accept(json!({})).expect_field_error(400, "password");
    let name = unique("acc");
    let done = accept(json!({"password": CHOSEN, "full_name": "Ann Invited", "username": name}));
    assert_eq!(done.expect(200)["status"], "ACTIVE");
    let user = app
        .get(&format!(
            "/v3/users/{}",
            invitation["user_id"].as_str().unwrap()
        ))
        .expect(200)
        .clone();
    assert_eq!(user["status"], "ACTIVE");
    assert_eq!(user["full_name"], "Ann Invited");
    assert_eq!(user["username"], name.as_str());
    assert_eq!(user["email_verified"], true);
    let entry = crate::audit::latest_about(&app, invitation["user_id"].as_str().unwrap());
    assert_eq!(entry["action"], "invitation_accepted", "{entry}");
    assert_eq!(entry["actor"]["id"], invitation["user_id"]);
    app.get(&format!("/v3/user-invitations/{}", id_of(&invitation)))
        .expect_error(404);
    // Spent.
    app.anonymous()
        .get(&format!("/auth/invitations/{token}"))
        .expect_error(404);
    accept(json!({"password": CHOSEN})).expect_error(404);
    app.anonymous()
        .get("/auth/invitations/not-a-token")
        .expect_error(404);
    login(&app, json!({"username": email, "password": CHOSEN})).expect(200);
}

#[test]
fn a_user_invited_into_two_accounts_accepts_each_separately() {
    let (app, _) = app_with_clock();
    let tenant = app
        .post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
        .expect(201)
        .clone();
    let tenant_id = tenant["id"].as_str().unwrap();
    let email = format!("{}@example.com", unique("two"));
    invite(&app, "/v3", &email);
    invite(&app, &format!("/v3/accounts/{tenant_id}"), &email);
    let tokens: Vec<String> = crate::users::outbox(&app)
        .iter()
        .filter(|(_, t)| t.contains(&format!("To: <{email}>\r\n")))
        .map(|(_, t)| token_of(t))
        .collect();
    assert_eq!(tokens.len(), 2);
    let mut accounts = Vec::new();
    for token in &tokens {
        let r = app.anonymous().post(
            &format!("/auth/invitations/{token}/accept"),
            &json!({"password": CHOSEN}),
        );
        accounts.push(r.expect(200)["account_id"].as_str().unwrap().to_string());
    }
    assert!(accounts.contains(&tenant_id.to_string()));
    assert_ne!(accounts[0], accounts[1]);
    // The email is now in two accounts: login names one.
    let r = login(
        &app,
        json!({"username": email, "password": CHOSEN, "account": tenant_id}),
    );
    assert_eq!(r.expect(200)["account_id"], tenant_id);
}

#[test]
fn an_enrolled_admin_finishes_enrollment_through_the_emailed_link() {
    let (app, _) = app_with_clock();
    let body = crate::tenants::tenant_body(json!({}));
    let admin_email = body["admin_email"].as_str().unwrap().to_string();
    let created = app
        .post("/v3/accounts?action=enroll", &body)
        .expect(201)
        .clone();
    let tenant_id = created["id"].as_str().unwrap();
    let admin_id = created["admin_id"].as_str().unwrap();
    let admin_path = format!("/v3/accounts/{tenant_id}/users/{admin_id}");
    // The enrollment invitation is in the tenant's log, by the aggregator's key.
    let log = format!("/v3/accounts/{tenant_id}/audit-logs?target_type__eq=user-invitation");
    let sent = app.get(&log).expect(200)["data"].clone();
    assert_eq!(sent.as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(
        sent[0]["actor"]["id"],
        app.get("/v3/api-keys/me").expect(200)["id"]
    );
    assert_eq!(app.get(&admin_path).expect(200)["status"], "ENROLLING");
    // The enrolling admin cannot sign in with the password the request carried.
    let sign_in = |password: &str| {
        login(
            &app,
            json!({"username": admin_email, "password": password, "account": tenant_id}),
        )
    };
    sign_in(PASSWORD).expect_error(401);

    let eml = email_to(&app, &admin_email);
    assert!(eml.contains("enrollment"), "{eml}");
    let token = token_of(&eml);
    let shown = app.anonymous().get(&format!("/auth/invitations/{token}"));
    assert_eq!(shown.expect(200)["account_id"], tenant_id);
    assert_eq!(shown.expect(200)["email"], admin_email.as_str());
    let done = app.anonymous().post(
        &format!("/auth/invitations/{token}/accept"),
        &json!({"password": CHOSEN}),
    );
    assert_eq!(done.expect(200)["status"], "ACTIVE");
    assert_eq!(done.expect(200)["id"], admin_id);
    let admin = app.get(&admin_path).expect(200).clone();
    assert_eq!(admin["status"], "ACTIVE");
    let log = format!("/v3/accounts/{tenant_id}/audit-logs?target_id__eq={admin_id}&order=DESC");
    let done = app.get(&log).expect(200)["data"][0].clone();
    assert_eq!(done["action"], "enrollment_completed", "{done}");
    assert_eq!(admin["email_verified"], true);
    let r = sign_in(CHOSEN);
    assert_eq!(r.expect(200)["user_id"], admin_id);
    // Spent.
    app.anonymous()
        .post(
            &format!("/auth/invitations/{token}/accept"),
            &json!({"password": CHOSEN}),
        )
        .expect_error(404);
}

#[test]
fn a_created_tenant_sends_no_enrollment_email() {
    let (app, _) = app_with_clock();
    let body = crate::tenants::tenant_body(json!({}));
    let admin_email = body["admin_email"].as_str().unwrap().to_string();
    app.post("/v3/accounts", &body).expect(201);
    let to_admin = crate::users::outbox(&app)
        .into_iter()
        .filter(|(_, t)| t.contains(&format!("To: <{admin_email}>\r\n")))
        .count();
    assert_eq!(to_admin, 0);
}
