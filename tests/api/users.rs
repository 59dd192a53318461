//! Users by id: update, delete, validate-email, the emails creation sends; helpers shared
//! with the invitation and notification tests.

pub use crate::common::{id_of, ids};
use crate::common::{
    non_admin, spawn_app, start_in_process, test_config, unique, with_store, TestApp,
};
use serde_json::{json, Value};

#[path = "user_groups.rs"]
mod user_groups;

/// Creates an ACTIVE user (chosen password) with `extra` fields; returns its read model.
pub fn new_user(app: &TestApp, extra: Value) -> Value {
    let mut body = json!({
        "email": format!("{}@example.com", unique("u")),
        "password": "a long enough password",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v3/users", &body).expect(201).clone()
}

pub fn account_id(app: &TestApp) -> String {
    id_of(app.get("/v3/accounts/me").expect(200))
}

/// The `.eml` files in the outbox, oldest first, as (file name, text).
pub fn outbox(app: &TestApp) -> Vec<(String, String)> {
    let Ok(dir) = std::fs::read_dir(app.data_dir.join("outbox")) else {
        return Vec::new();
    };
    let mut files: Vec<(String, String)> = dir
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (name, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The one `.eml` addressed to `to`.
pub fn email_to(app: &TestApp, to: &str) -> String {
    let found: Vec<String> = outbox(app)
        .into_iter()
        .filter(|(_, text)| text.contains(&format!("To: <{to}>\r\n")))
        .map(|(_, text)| text)
        .collect();
    assert_eq!(found.len(), 1, "emails to {to}: {found:?}");
    found[0].clone()
}

/// Every notification log entry of the caller's account.
pub fn notifications(app: &TestApp) -> Vec<Value> {
    app.get("/v3/accounts/me/notifications?limit=1000")
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// An app whose account has a third group besides Administrators and Developers, and the
/// three group ids in creation order. (Groups have no HTTP routes on this branch yet: the
/// ids are read from the store while the server is stopped.)
pub struct GroupsApp {
    pub app: TestApp,
    pub groups: [String; 3],
    _dir: tempfile::TempDir,
}

pub fn app_with_groups() -> GroupsApp {
    use iamd::ids::{AccountId, GroupId};
    use iamd::store::groups::{GroupRecord, Subjects};
    let app = spawn_app();
    let account = AccountId::parse(&account_id(&app)).unwrap();
    let data_dir = app.data_dir.clone();
    let dir = app.stop().unwrap();
    let groups = with_store(&data_dir, |store| {
        let acc = store.accounts.get(&account).unwrap().unwrap();
        let third = GroupRecord::new(GroupId::new(), account, "Third");
        let third_id = third.id;
        let _ = store.groups.create(third, &Subjects::default()).unwrap();
        [
            acc.admin_group.hex(),
            acc.developers_group.hex(),
            third_id.hex(),
        ]
    });
    GroupsApp {
        app: start_in_process(test_config(&data_dir)),
        groups,
        _dir: dir,
    }
}

#[test]
fn admin_updates_a_user_by_id() {
    let app = spawn_app();
    let user = new_user(&app, json!({"username": unique("name")}));
    let path = format!("/v3/users/{}", id_of(&user));
    let updated = app
        .put(
            &path,
            &json!({"full_name": "New Name", "phone_number": "+1 555", "status": "INACTIVE"}),
        )
        .expect(200)
        .clone();
    assert_eq!(updated["object"], "user");
    assert_eq!(updated["full_name"], "New Name");
    assert_eq!(updated["status"], "INACTIVE");
    assert_eq!(updated["etag"], "2");
    let read = app.get(&path).expect(200).clone();
    assert_eq!(read["phone_number"], "+1 555");
    // The whole read model echoed back, nulls as the SDK sends them, changes nothing.
    let mut echo = read.clone();
    echo["login_profiles"] = Value::Null;
    echo["address"] = Value::Null;
    let again = app.put(&path, &echo).expect(200).clone();
    assert_eq!(again["etag"], "3");
    for f in [
        "email",
        "username",
        "full_name",
        "phone_number",
        "status",
        "groups",
    ] {
        assert_eq!(again[f], read[f], "{f}");
    }
    // The same through the tenant family, on the caller's own (aggregator) account.
    let tenant = format!("/v3/accounts/{}/users/{}", account_id(&app), id_of(&user));
    let t = app
        .put(&tenant, &json!({"address": "1 Street"}))
        .expect(200)
        .clone();
    assert_eq!(t["address"], "1 Street");
}

#[test]
fn failed_updates_change_nothing() {
    let app = spawn_app();
    let other = new_user(&app, json!({"username": unique("taken")}));
    let user = new_user(&app, json!({"username": unique("name")}));
    let path = format!("/v3/users/{}", id_of(&user));
    app.put("/v3/users/0123456789abcdef0123456789abcdef", &json!({}))
        .expect_error(404);
    app.put("/v3/users/nope", &json!({})).expect_error(404);
    let bad = app.put(&path, &json!({"username": "no spaces", "full_name": "X"}));
    bad.expect_field_error(400, "username");
    let me = id_of(app.get("/v3/users/me").expect(200));
    let bad_email = app.put(&format!("/v3/users/{me}"), &json!({"email": "no-at-sign"}));
    bad_email.expect_field_error(400, "email");
    let dup = app.put(
        &path,
        &json!({"username": other["username"], "full_name": "X"}),
    );
    dup.expect_error(409);
    let dup_email = app.put(
        &format!("/v3/users/{me}"),
        &json!({"email": user["email"].as_str().unwrap().to_uppercase()}),
    );
    dup_email.expect_error(409);
    let unknown_group = app.put(
        &path,
        &json!({"groups": ["0123456789abcdef0123456789abcdef"], "full_name": "X"}),
    );
    unknown_group.expect_field_error(400, "groups");
    let bad_profile = app.put(
        &path,
        &json!({"login_profiles": [{"id": "x"}], "full_name": "X"}),
    );
    bad_profile.expect_field_error(400, "login_profiles");
    // Another user's email address is not the admin's to change.
    app.put(&path, &json!({"email": "changed@example.com"}))
        .expect_error(403);
    let after = app.get(&path).expect(200).clone();
    assert_eq!(after, app.get(&path).expect(200).clone());
    assert_eq!(after["etag"], "1");
    assert_eq!(after["full_name"], user["full_name"]);
    assert_eq!(after["email"], user["email"]);
    assert_eq!(after["groups"], json!([]));
}

#[test]
fn non_admins_update_only_themselves() {
    let app = spawn_app();
    let (dev, dev_id) = non_admin(&app, false);
    let other = new_user(&app, json!({}));
    let other_path = format!("/v3/users/{}", id_of(&other));
    dev.put(&other_path, &json!({"full_name": "Hijack"}))
        .expect_error(403);
    assert_eq!(app.get(&other_path).expect(200)["etag"], "1");
    let own = format!("/v3/users/{dev_id}");
    let me = dev
        .put(
            &own,
            &json!({"full_name": "Me Myself", "email": format!("{}@example.com", unique("new"))}),
        )
        .expect(200)
        .clone();
    assert_eq!(me["full_name"], "Me Myself");
    // As through /me: status and groups are the admins' to change; echoing them is fine.
    dev.put(&own, &json!({"status": "INACTIVE"}))
        .expect_error(403);
    dev.put(
        &own,
        &json!({"groups": ["0123456789abcdef0123456789abcdef"]}),
    )
    .expect_error(403);
    let mut read = dev.get(&own).expect(200).clone();
    // `login_profiles: []` is refused ("The list cannot be empty"): not echoed.
    read.as_object_mut().unwrap().remove("login_profiles");
    let echoed = dev.put(&own, &read).expect(200).clone();
    assert_eq!(echoed["status"], read["status"]);
    assert_eq!(
        dev.get("/v3/users/me").expect(200)["full_name"],
        "Me Myself"
    );
}

#[test]
fn admin_deletes_a_user_with_its_keys_and_memberships() {
    let app = spawn_app();
    let admins = app.get("/v3/users/me").expect(200)["groups"][0].clone();
    let user = new_user(&app, json!({"groups": [admins]}));
    let uid = id_of(&user);
    let key = app
        .post("/v3/api-keys", &json!({"name": unique("k"), "owner": uid}))
        .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    app.with_key(&key).get("/v3/users/me").expect(200);
    let me_id = id_of(app.get("/v3/users/me").expect(200));
    let count = |app: &TestApp| -> u64 {
        app.get(&format!("/v3/users/{me_id}/groups")).expect(200)["data"][0]["user_count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&app), 2);
    let resp = app.delete(&format!("/v3/users/{uid}"));
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert!(resp.text.is_empty());
    app.get(&format!("/v3/users/{uid}")).expect_error(404);
    app.delete(&format!("/v3/users/{uid}")).expect_error(404);
    app.delete("/v3/users/not-an-id").expect_error(404);
    app.with_key(&key).get("/v3/users/me").expect_error(401);
    assert_eq!(count(&app), 1);
    let total = app.get("/v3/users").expect(200)["total_count"].clone();
    assert_eq!(total, 1);
}

#[test]
fn delete_refuses_self_and_non_admins() {
    let app = spawn_app();
    let me = id_of(app.get("/v3/users/me").expect(200));
    app.delete(&format!("/v3/users/{me}"))
        .expect_bad_request("A user cannot delete itself.");
    app.get(&format!("/v3/users/{me}")).expect(200);
    let (dev, dev_id) = non_admin(&app, false);
    let other = new_user(&app, json!({}));
    dev.delete(&format!("/v3/users/{}", id_of(&other)))
        .expect_error(403);
    dev.delete(&format!("/v3/users/{dev_id}")).expect_error(403);
    app.get(&format!("/v3/users/{}", id_of(&other))).expect(200);
    app.get(&format!("/v3/users/{dev_id}")).expect(200);
    // Through the tenant family the caller is the parent's admin, never the user itself.
    let tenant = format!("/v3/accounts/{}/users/{}", account_id(&app), id_of(&other));
    assert_eq!(app.delete(&tenant).status, 204);
}

#[test]
fn validate_email_is_tenant_only_and_sends_an_email() {
    let app = spawn_app();
    let user = new_user(&app, json!({}));
    let email = user["email"].as_str().unwrap().to_string();
    let path = format!(
        "/v3/accounts/{}/users/{}/validate-email",
        account_id(&app),
        id_of(&user)
    );
    let r = app.raw("POST", &path, Some(("application/json", b"")), &[]);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let eml = email_to(&app, &email);
    assert!(
        eml.contains("Subject: Please confirm your email address\r\n"),
        "{eml}"
    );
    let log = notifications(&app);
    assert!(log
        .iter()
        .any(|n| n["receiver"] == email.as_str() && n["success"] == true));
    // Not in the own-account family; unknown users are 404; non-admins are refused.
    app.post(
        &format!("/v3/users/{}/validate-email", id_of(&user)),
        &json!({}),
    )
    .expect_error(404);
    let unknown = format!(
        "/v3/accounts/{}/users/0123456789abcdef0123456789abcdef/validate-email",
        account_id(&app)
    );
    app.post(&unknown, &json!({})).expect_error(404);
    let (dev, _) = non_admin(&app, false);
    dev.post(&path, &json!({})).expect_error(403);
    assert_eq!(notifications(&app).len(), 1);
}

#[test]
fn creating_users_sends_the_right_emails() {
    let app = spawn_app();
    // A chosen password: ACTIVE, no email.
    let active = new_user(&app, json!({}));
    assert_eq!(active["status"], "ACTIVE");
    assert!(active.get("password").is_none());
    assert!(outbox(&app).is_empty());
    // No password: RESET, the generated password once in the response and in the email only.
    let email = format!("{}@example.com", unique("gen"));
    let reset = app
        .post("/v3/users", &json!({"email": email}))
        .expect(201)
        .clone();
    assert_eq!(reset["status"], "RESET");
    let password = reset["password"].as_str().unwrap().to_string();
    assert!(app
        .get(&format!("/v3/users/{}", id_of(&reset)))
        .expect(200)
        .get("password")
        .is_none());
    assert!(email_to(&app, &email).contains(&password));
    let log = notifications(&app);
    assert_eq!(log.len(), 1);
    assert!(!log[0].to_string().contains(&password), "{}", log[0]);
    // action=invite: INVITED, an invitation and its email.
    let invited_email = format!("{}@example.com", unique("inv"));
    let invited = app
        .post("/v3/users?action=invite", &json!({"email": invited_email}))
        .expect(201)
        .clone();
    assert_eq!(invited["status"], "INVITED");
    assert!(invited.get("password").is_none());
    let invitations = app.get("/v3/user-invitations").expect(200).clone();
    assert_eq!(invitations["data"][0]["user_id"], invited["id"]);
    assert!(email_to(&app, &invited_email).contains("/console/#/invitation?token="));
    assert_eq!(notifications(&app).len(), 2);
}

#[test]
fn create_rules() {
    let app = spawn_app();
    let user = new_user(&app, json!({"username": unique("first")}));
    let upper = user["email"].as_str().unwrap().to_uppercase();
    app.post("/v3/users", &json!({"email": upper}))
        .expect_error(409);
    app.post(
        "/v3/users",
        &json!({"email": "x@example.com", "username": user["username"]}),
    )
    .expect_error(409);
    let short = app.post(
        "/v3/users",
        &json!({"email": "y@example.com", "password": "short"}),
    );
    short.expect_field_error(400, "password");
    let group = app.post(
        "/v3/users",
        &json!({"email": "z@example.com", "groups": ["0123456789abcdef0123456789abcdef"]}),
    );
    group.expect_field_error(400, "groups");
    let profile = app.post(
        "/v3/users",
        &json!({"email": "w@example.com", "login_profiles": [{"id": "nope"}]}),
    );
    profile.expect_field_error(400, "login_profiles");
    let (dev, _) = non_admin(&app, false);
    dev.post("/v3/users", &json!({"email": "v@example.com"}))
        .expect_error(403);
    // Only the first user and the non-admin exist besides the bootstrap admin.
    assert_eq!(app.get("/v3/users").expect(200)["total_count"], 3);
    assert!(outbox(&app).is_empty());
}

#[test]
fn login_profiles_cannot_be_emptied() {
    let app = spawn_app();
    let profile = crate::common::new_identity_provider(&app);
    let profile = profile.as_str();
    let user = new_user(&app, json!({"login_profiles": [{"id": profile}]}));
    assert_eq!(user["login_profiles"][0]["id"], profile);
    assert_eq!(user["login_profiles"][0]["type"], "SAML2");
    let unknown = "0123456789abcdef0123456789abcdef";
    app.post(
        "/v3/users",
        &json!({"email": "lp@example.com", "login_profiles": [{"id": unknown}]}),
    )
    .expect_field_error(400, "login_profiles");
    let path = format!("/v3/users/{}", id_of(&user));
    let r = app.put(&path, &json!({"login_profiles": []}));
    r.expect_field_error(400, "login_profiles");
    // Null (what the SDK sends for an empty list) and an echo are "unchanged".
    app.put(&path, &json!({"login_profiles": null})).expect(200);
    let echoed = app
        .put(
            &path,
            &json!({"login_profiles": [{"id": profile, "name": null, "type": "NATIVE"}]}),
        )
        .expect(200)
        .clone();
    assert_eq!(echoed["login_profiles"][0]["id"], profile);
    assert_eq!(echoed["login_profiles"].as_array().unwrap().len(), 1);
}

#[test]
fn every_route_here_needs_a_key() {
    let app = spawn_app();
    let anon = app.anonymous();
    let acc = account_id(&app);
    let id = "0123456789abcdef0123456789abcdef";
    let body = json!({});
    for (method, path) in [
        ("PUT", format!("/v3/users/{id}")),
        ("DELETE", format!("/v3/users/{id}")),
        ("GET", format!("/v3/users/{id}/groups")),
        ("POST", format!("/v3/users/{id}/groups")),
        ("DELETE", format!("/v3/users/{id}/groups")),
        (
            "POST",
            format!("/v3/accounts/{acc}/users/{id}/validate-email"),
        ),
        ("GET", "/v3/user-invitations".to_string()),
        ("POST", "/v3/user-invitations".to_string()),
        ("GET", format!("/v3/user-invitations/{id}")),
        ("DELETE", format!("/v3/user-invitations/{id}")),
        ("GET", "/v3/accounts/me/notifications".to_string()),
        ("GET", format!("/v3/accounts/{acc}/notifications")),
    ] {
        let bytes = body.to_string();
        let r = anon.raw(
            method,
            &path,
            Some(("application/json", bytes.as_bytes())),
            &[],
        );
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
        crate::common::assert_error_body(&r.body, 401);
    }
}

/// The user view is written straight from the stored record (borrowed fields, ids and
/// timestamps rendered on the fly): its text stays exactly what clients parsed before, key
/// order, `null`s, strings for `etag` and escapes included.
#[test]
fn the_user_view_keeps_its_exact_text() {
    let app = spawn_app();
    let idp = crate::common::new_identity_provider(&app);
    let idp_name = app
        .get(&format!("/v3/identity-providers/{idp}"))
        .expect(200)["name"]
        .as_str()
        .unwrap()
        .to_string();
    let update = json!({
        "full_name": "Quote \" back\\slash é \u{1F600}",
        "address": "1 Road",
        "phone_number": null,
        "custom_fields": {"b": "two\nlines", "a\"": ""},
        "login_profiles": [{"id": idp}],
    });
    app.put("/v3/users/me", &update).expect(200);
    let r = app.get("/v3/users/me");
    let v = r.expect(200);
    let s = |k: &str| v[k].to_string();
    let expected = format!(
        concat!(
            r#"{{"object":"user","id":{},"account_id":{},"email":{},"username":{},"#,
            r#""full_name":"Quote \" back\\slash é {}","address":"1 Road","phone_number":null,"#,
            r#""status":"ACTIVE","email_verified":true,"is_gtc_accepted":false,"#,
            r#""is_marketing_accepted":false,"is_totp_enabled":false,"groups":{},"#,
            r#""login_profiles":[{{"id":"{}","name":"{}","type":"SAML2"}}],"login_history":[],"#,
            r#""custom_fields":{{"a\"":"","b":"two\nlines"}},"created_at":{},"creation_time":{},"#,
            r#""updated_at":{},"last_login_time":{},"password_changed_time":{},"etag":{}}}"#
        ),
        s("id"),
        s("account_id"),
        s("email"),
        s("username"),
        '\u{1F600}',
        s("groups"),
        idp,
        idp_name,
        s("created_at"),
        s("creation_time"),
        s("updated_at"),
        s("last_login_time"),
        s("password_changed_time"),
        s("etag"),
    );
    assert_eq!(r.text, expected);
    assert!(v["etag"].is_string() && v["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{:?}",
        r.headers
    );
}
