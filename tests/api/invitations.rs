//! User invitations: create, read, list (filters, paging), delete; tokens and emails.

use crate::common::{files_under, non_admin, spawn_app, unique, TestApp};
use crate::users::{
    account_id, app_with_groups, email_to, id_of, ids, new_user, notifications, GroupsApp,
};
use serde_json::{json, Value};

fn invite(app: &TestApp, body: Value) -> Value {
    app.post("/v3/user-invitations", &body).expect(201).clone()
}

fn fresh_email() -> String {
    format!("{}@example.com", unique("invitee"))
}

fn millis(rfc3339: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(
        rfc3339.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Every file under `dir`, recursively.
#[test]
fn create_read_list_and_delete() {
    let app = spawn_app();
    let email = fresh_email();
    let inv = invite(&app, json!({"email": email, "valid_for_days": 5}));
    assert_eq!(inv["object"], "user-invitation");
    assert_eq!(inv["email"], email.as_str());
    assert_eq!(inv["account_id"], account_id(&app).as_str());
    assert_eq!(inv["etag"], "1");
    assert_eq!(inv["groups"], json!([]));
    assert_eq!(inv["login_profiles"], json!([]));
    assert_eq!(id_of(&inv).len(), 32);
    let lifetime = millis(&inv["expiration"]) - millis(&inv["created_at"]);
    assert_eq!(lifetime, 5 * 24 * 3600 * 1000);
    assert!(inv["updated_at"].is_string());

    // The invited user exists, INVITED, with that email.
    let user_path = format!("/v3/users/{}", inv["user_id"].as_str().unwrap());
    let user = app.get(&user_path).expect(200).clone();
    assert_eq!(
        (user["status"].clone(), user["email"].clone()),
        (json!("INVITED"), json!(email))
    );

    let path = format!("/v3/user-invitations/{}", id_of(&inv));
    assert_eq!(app.get(&path).expect(200).clone(), inv);
    let list = app.get("/v3/user-invitations").expect(200).clone();
    assert_eq!(list["object"], "list");
    assert_eq!(ids(&list), vec![id_of(&inv)]);
    assert_eq!(list["total_count"], 1);
    // The tenant family serves the same handlers.
    let tenant = format!(
        "/v3/accounts/{}/user-invitations/{}",
        account_id(&app),
        id_of(&inv)
    );
    assert_eq!(app.get(&tenant).expect(200)["id"], inv["id"]);

    let r = app.delete(&path);
    assert_eq!(r.status, 204, "{}", r.text);
    app.get(&path).expect_error(404);
    app.delete(&path).expect_error(404);
    app.get("/v3/user-invitations/not-an-id").expect_error(404);
    assert_eq!(
        app.get("/v3/user-invitations").expect(200)["total_count"],
        0
    );
    // The user the invitation created goes with it.
    app.get(&user_path).expect_error(404);
}

#[test]
fn validation_errors_create_nothing() {
    let app = spawn_app();
    let default = invite(&app, json!({"email": fresh_email()}));
    let days = (millis(&default["expiration"]) - millis(&default["created_at"])) / 86_400_000;
    assert_eq!(days, 30);
    let users_before = app.get("/v3/users").expect(200)["total_count"].clone();
    for (body, field) in [
        (
            json!({"email": fresh_email(), "valid_for_days": 0}),
            "valid_for_days",
        ),
        (
            json!({"email": fresh_email(), "valid_for_days": 101}),
            "valid_for_days",
        ),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"valid_for_days": 3}), "email"),
        (
            json!({"email": fresh_email(), "groups": ["0123456789abcdef0123456789abcdef"]}),
            "groups",
        ),
        (
            json!({"email": fresh_email(), "groups": ["nope"]}),
            "groups",
        ),
        (
            json!({"email": fresh_email(), "login_profiles": [{"id": "nope"}]}),
            "login_profiles",
        ),
    ] {
        let r = app.post("/v3/user-invitations", &body);
        r.expect_field_error(400, field);
    }
    assert_eq!(
        app.get("/v3/users").expect(200)["total_count"],
        users_before
    );
    assert_eq!(
        app.get("/v3/user-invitations").expect(200)["total_count"],
        1
    );
    assert_eq!(notifications(&app).len(), 1);
}

#[test]
fn groups_and_existing_users() {
    let GroupsApp { app, groups, .. } = app_with_groups();
    let [_, devs, third] = groups.clone();
    // A new user joins the invitation's groups at once, as with action=invite.
    let inv = invite(
        &app,
        json!({"email": fresh_email(), "groups": [devs, third]}),
    );
    assert_eq!(inv["groups"], json!([devs, third]));
    let user = app
        .get(&format!("/v3/users/{}", inv["user_id"].as_str().unwrap()))
        .expect(200)
        .clone();
    assert_eq!(user["groups"], json!([devs, third]));

    // An existing user (email in another case) is re-invited, and stays when revoked.
    let existing = new_user(&app, json!({}));
    let upper = existing["email"].as_str().unwrap().to_uppercase();
    let again = invite(&app, json!({"email": upper}));
    assert_eq!(again["user_id"], existing["id"]);
    app.delete(&format!("/v3/user-invitations/{}", id_of(&again)))
        .expect(204);
    app.get(&format!("/v3/users/{}", id_of(&existing)))
        .expect(200);
    // Deleting a user takes its invitations along.
    let third_inv = invite(&app, json!({"email": existing["email"]}));
    assert_eq!(
        app.delete(&format!("/v3/users/{}", id_of(&existing)))
            .status,
        204
    );
    app.get(&format!("/v3/user-invitations/{}", id_of(&third_inv)))
        .expect_error(404);
}

#[test]
fn list_filters_and_paging() {
    let app = spawn_app();
    let profile = crate::common::new_identity_provider(&app);
    let profile = profile.as_str();
    let a = invite(&app, json!({"email": fresh_email()}));
    let b = invite(
        &app,
        json!({"email": fresh_email(), "login_profiles": [{"id": profile}]}),
    );
    let c = invite(&app, json!({"email": fresh_email()}));
    assert_eq!(b["login_profiles"][0]["id"], profile);
    let filtered = app
        .get(&format!(
            "/v3/user-invitations?login_profiles__eq={profile}"
        ))
        .expect(200)
        .clone();
    assert_eq!(ids(&filtered), vec![id_of(&b)]);
    assert_eq!(filtered["total_count"], 1);
    app.get("/v3/user-invitations?email__eq=x")
        .expect_field_error(400, "email__eq");
    app.get("/v3/user-invitations?login_profiles__neq=x")
        .expect_field_error(400, "login_profiles__neq");
    let first = app.get("/v3/user-invitations?limit=2").expect(200).clone();
    assert_eq!(ids(&first), vec![id_of(&a), id_of(&b)]);
    assert_eq!(
        (first["has_more"].clone(), first["total_count"].clone()),
        (json!(true), json!(3))
    );
    let rest = app
        .get(&format!("/v3/user-invitations?limit=2&after={}", id_of(&b)))
        .expect(200)
        .clone();
    assert_eq!(ids(&rest), vec![id_of(&c)]);
    assert_eq!(
        (rest["has_more"].clone(), rest["total_count"].clone()),
        (json!(false), json!(3))
    );
    let desc = app
        .get("/v3/user-invitations?order=DESC")
        .expect(200)
        .clone();
    assert_eq!(ids(&desc), vec![id_of(&c), id_of(&b), id_of(&a)]);
}

#[test]
fn non_admins_read_but_do_not_invite_or_revoke() {
    let app = spawn_app();
    let inv = invite(&app, json!({"email": fresh_email()}));
    let (dev, _) = non_admin(&app, false);
    dev.post("/v3/user-invitations", &json!({"email": fresh_email()}))
        .expect_error(403);
    let path = format!("/v3/user-invitations/{}", id_of(&inv));
    dev.delete(&path).expect_error(403);
    assert_eq!(dev.get(&path).expect(200)["id"], inv["id"]);
    assert_eq!(
        dev.get("/v3/user-invitations").expect(200)["total_count"],
        1
    );
    assert_eq!(app.get("/v3/users").expect(200)["total_count"], 3);
}

#[test]
fn the_token_is_emailed_and_stored_only_as_a_digest() {
    let app = spawn_app();
    let email = fresh_email();
    let inv = invite(&app, json!({"email": email}));
    let eml = email_to(&app, &email);
    let token = eml
        .split("token=")
        .nth(1)
        .expect("a link with the token")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(token.len() >= 40, "{token}");
    assert!(eml.contains("Subject: Invitation to join"), "{eml}");
    // Not in the API, not in the notification log, not in the database files.
    assert!(!app
        .get(&format!("/v3/user-invitations/{}", id_of(&inv)))
        .text
        .contains(&token));
    let log = notifications(&app);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["receiver"], email.as_str());
    assert!(!log[0].to_string().contains(&token));
    assert!(log[0]["message"].as_str().unwrap().contains("[hidden]"));
    for file in files_under(&app.data_dir) {
        if file.starts_with(app.data_dir.join("outbox")) {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token found in {}",
            file.display()
        );
    }
}
