//! A key's rights are never more than its owner's: an INACTIVE owner locks its keys out, an
//! owner outside `Administrators` makes its keys non-admin, a user cannot take itself out of
//! `Administrators`, and a deleted key or user leaves no last-login time behind.

use crate::apikeys::delete_json;
use crate::common::{id_of, non_admin, spawn_app, unique, Client, TestApp};
use iamd::ids::Id;
use serde_json::{json, Value};

fn group_id(app: &TestApp, name: &str) -> String {
    let list = app
        .get(&format!("/v3/policy-groups?name__eq={name}"))
        .expect(200)
        .clone();
    id_of(&list["data"][0])
}

/// A new user in `groups` (ACTIVE: it has a password) and a key it owns in the same groups.
fn user_with_key(app: &TestApp, groups: &[&str]) -> (String, Client) {
    let user = app
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("owner")),
                    "password": "a long enough password", "groups": groups}),
        )
        .expect(201)
        .clone();
    assert_eq!(user["status"], "ACTIVE");
    let key = app
        .post(
            "/v3/api-keys",
            &json!({"name": unique("k"), "owner": id_of(&user), "groups": groups}),
        )
        .expect(201)
        .clone();
    (id_of(&user), app.with_key(key["key"].as_str().unwrap()))
}

fn new_user_body() -> Value {
    json!({"email": format!("{}@example.com", unique("made")), "password": "a long enough password"})
}

fn set_status(app: &TestApp, user: &str, status: &str) {
    let got = app
        .put(&format!("/v3/users/{user}"), &json!({"status": status}))
        .expect(200)
        .clone();
    assert_eq!(got["status"], status);
}

#[test]
fn an_inactive_owner_locks_out_its_keys_admin_keys_included() {
    let app = spawn_app();
    let admins = group_id(&app, "Administrators");
    let (user, key) = user_with_key(&app, &[&admins]);
    key.get("/v3/accounts/me").expect(200);
    key.get("/admin/backup").expect(200);
    key.post("/v3/users", &new_user_body()).expect(201);

    set_status(&app, &user, "INACTIVE");
    // At the very next request: nothing remembers the owner's earlier status.
    for refused in [
        key.get("/v3/accounts/me"),
        key.get("/admin/backup"),
        key.post("/v3/users", &new_user_body()),
        key.get("/v3/api-keys/me"),
    ] {
        let body = refused.expect_error(401);
        assert!(
            body["message"].as_str().unwrap().contains("owner"),
            "{body}"
        );
    }
    // Reactivated: the same key works again, with its admin rights.
    set_status(&app, &user, "ACTIVE");
    key.get("/v3/accounts/me").expect(200);
    key.post("/v3/users", &new_user_body()).expect(201);
    key.get("/admin/backup").expect(200);
}

/// A key in steady use is let in without its records being read again while nothing is
/// committed (`auth::callers`, kept per worker). Used over and over (on every worker), it is
/// still judged by the current records at the first request after each change: its owner
/// deactivated and back, its owner out of `Administrators`, the key made inactive, deleted.
#[test]
fn a_key_in_steady_use_is_judged_anew_at_the_first_request_after_each_change() {
    const USES: usize = 8;
    let app = spawn_app();
    let admins = group_id(&app, "Administrators");
    let (user, key) = user_with_key(&app, &[&admins]);
    let key_id = id_of(key.get("/v3/api-keys/me").expect(200));
    let each = |path: &str, status: u16| {
        for _ in 0..USES {
            let answer = key.get(path);
            assert_eq!(answer.status, status, "GET {path}: {}", answer.body);
        }
    };
    each("/admin/backup", 200);
    set_status(&app, &user, "INACTIVE");
    each("/v3/accounts/me", 401);
    set_status(&app, &user, "ACTIVE");
    each("/admin/backup", 200);
    delete_json(&app, &format!("/v3/users/{user}/groups"), &json!([admins])).expect(200);
    each("/admin/backup", 403);
    each("/v3/accounts/me", 200);
    let path = format!("/v3/api-keys/{key_id}");
    let name = unique("k");
    app.put(&path, &json!({"name": name, "status": "INACTIVE"}))
        .expect(200);
    each("/v3/accounts/me", 401);
    app.put(&path, &json!({"name": name, "status": "ACTIVE"}))
        .expect(200);
    each("/v3/accounts/me", 200);
    assert_eq!(app.delete(&path).status, 204);
    each("/v3/accounts/me", 401);
}

#[test]
fn keys_of_reset_enrolling_and_invited_owners_keep_working() {
    let app = spawn_app();
    // A user created without a password is RESET: its keys work (RESET is about the
    // password, not about keys an admin issued).
    let user = app
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("reset"))}),
        )
        .expect(201)
        .clone();
    assert_eq!(user["status"], "RESET");
    let key = app
        .post(
            "/v3/api-keys",
            &json!({"name": unique("k"), "owner": id_of(&user)}),
        )
        .expect(201)
        .clone();
    let key = app.with_key(key["key"].as_str().unwrap());
    key.get("/v3/users/me").expect(200);
    for status in ["ENROLLING", "INVITED", "ACTIVE", "RESET"] {
        set_status(&app, &id_of(&user), status);
        assert_eq!(key.get("/v3/users/me").expect(200)["status"], status);
    }
    set_status(&app, &id_of(&user), "INACTIVE");
    key.get("/v3/users/me").expect_error(401);
}

#[test]
fn a_key_is_admin_only_while_its_owner_is() {
    let app = spawn_app();
    let admins = group_id(&app, "Administrators");
    let (user, key) = user_with_key(&app, &[&admins]);
    key.post("/v3/users", &new_user_body()).expect(201);

    // The owner leaves Administrators (removed by another admin): its key, still a member
    // itself, loses admin power at once but still authenticates.
    delete_json(&app, &format!("/v3/users/{user}/groups"), &json!([admins])).expect(200);
    key.post("/v3/users", &new_user_body()).expect_error(403);
    key.get("/admin/backup").expect_error(403);
    key.get("/v3/users").expect(200);
    let me = key.get("/v3/api-keys/me").expect(200).clone();
    assert!(
        me["groups"]
            .as_array()
            .unwrap()
            .contains(&json!(admins.as_str())),
        "the key itself stays a member: {me}"
    );
    // Back in Administrators: the key is admin again.
    app.post(&format!("/v3/users/{user}/groups"), &json!([admins]))
        .expect(200);
    key.post("/v3/users", &new_user_body()).expect(201);

    // A key an admin put into Administrators for a non-admin user is not admin either.
    let (_, owner) = non_admin(&app, true);
    let promoted = app
        .post(
            "/v3/api-keys",
            &json!({"name": unique("k"), "owner": owner, "groups": [admins]}),
        )
        .expect(201)
        .clone();
    let promoted = app.with_key(promoted["key"].as_str().unwrap());
    promoted
        .post("/v3/users", &new_user_body())
        .expect_error(403);
    promoted.get("/admin/backup").expect_error(403);
}

#[test]
fn a_user_cannot_remove_itself_from_administrators_through_its_groups() {
    let app = spawn_app();
    let admins = group_id(&app, "Administrators");
    let me = id_of(app.get("/v3/users/me").expect(200));
    let root = id_of(app.get("/v3/accounts/me").expect(200));
    // The refusal of the policy-groups route is the reference.
    let reference = delete_json(
        &app,
        &format!("/v3/policy-groups/{admins}/users"),
        &json!([me]),
    )
    .expect_field_error(400, "users")
    .clone();
    for path in [
        format!("/v3/users/{me}/groups"),
        format!("/v3/accounts/{root}/users/{me}/groups"),
    ] {
        let refused = delete_json(&app, &path, &json!([admins]))
            .expect_field_error(400, "groups")
            .clone();
        for field in ["code", "type", "message"] {
            assert_eq!(refused[field], reference[field], "{path}: {refused}");
        }
        assert_eq!(refused["fields"].as_array().unwrap().len(), 1, "{refused}");
    }
    // Leaving through an update of the user's groups is refused the same way.
    let refused = app
        .put(&format!("/v3/users/{me}"), &json!({"groups": []}))
        .expect_field_error(400, "groups")
        .clone();
    assert_eq!(refused["message"], reference["message"], "{refused}");
    let groups = app
        .get(&format!("/v3/users/{me}/groups"))
        .expect(200)
        .clone();
    assert!(
        crate::common::ids(&groups).contains(&admins),
        "still an admin: {groups}"
    );
    // Another admin may still remove the user.
    let (_, other) = user_with_key(&app, &[&admins]);
    delete_json(&other, &format!("/v3/users/{me}/groups"), &json!([admins])).expect(200);
}

/// Opens the store of a stopped server (`TestApp::stop` has closed it).
pub fn reopen(dir: &std::path::Path) -> iamd::store::Store {
    // On the app's PostgreSQL schema under `IAMD_TEST_STORE=postgres`.
    let url = crate::pg::url_for(dir).unwrap_or_default();
    iamd::store::Store::open_url(dir, &url).unwrap_or_else(|e| panic!("store opens: {e}"))
}

#[test]
fn deleted_keys_and_users_leave_no_last_login_behind_a_graceful_stop() {
    let app = spawn_app();
    let account = id_of(app.get("/v3/accounts/me").expect(200));
    let admin_key = id_of(app.get("/v3/api-keys/me").expect(200));
    // A key that is used, then deleted.
    let key = app
        .post("/v3/api-keys", &json!({"name": unique("k")}))
        .expect(201)
        .clone();
    let used = app.with_key(key["key"].as_str().unwrap());
    used.get("/v3/accounts/me").expect(200);
    assert!(app
        .get(&format!("/v3/api-keys/{}", id_of(&key)))
        .expect(200)["last_login_time"]
        .is_i64());
    app.delete(&format!("/v3/api-keys/{}", id_of(&key)))
        .expect(204);
    // A user whose key is used, then the user is deleted (with its key).
    let (user, user_key) = user_with_key(&app, &[]);
    user_key.get("/v3/users/me").expect(200);
    let user_key_id = id_of(user_key.get("/v3/api-keys/me").expect(200));
    app.delete(&format!("/v3/users/{user}")).expect(204);

    let dir = app.stop().expect("the temp dir");
    let store = reopen(dir.path());
    let account = Id::parse(&account).unwrap();
    let time = |id: &str| {
        store
            .last_login
            .get(&account, &Id::parse(id).unwrap())
            .unwrap()
    };
    assert!(
        time(&admin_key).is_some(),
        "the stop flushed last-login times"
    );
    for (what, id) in [
        ("deleted key", id_of(&key)),
        ("deleted user", user),
        ("deleted user's key", user_key_id),
    ] {
        assert_eq!(time(&id), None, "{what} {id} has a last-login row");
    }
}

#[test]
fn an_admin_cannot_set_itself_inactive() {
    let app = spawn_app();
    let admins = group_id(&app, "Administrators");
    let (user, key) = user_with_key(&app, &[&admins]);
    for path in [format!("/v3/users/{user}"), "/v3/users/me".to_string()] {
        key.put(&path, &json!({"status": "INACTIVE"}))
            .expect_field_error(400, "status");
    }
    // Nothing changed: the key still works, and another admin may still do it.
    key.get("/v3/accounts/me").expect(200);
    set_status(&app, &user, "INACTIVE");
    key.get("/v3/accounts/me").expect_error(401);
}
