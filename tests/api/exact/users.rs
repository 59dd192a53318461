//! Users, keys and invitations: what the document states about owners (point 3), login
//! profiles (6, 7), who changes a status (8), `last_login_time` (10) and
//! `valid_for_days: null` (13).

use super::{new_key, new_tenant, own_account, validation_fields};
use crate::common::{id_of, new_identity_provider, spawn_app, unique};
use serde_json::json;

fn email() -> String {
    format!("{}@example.com", unique("u"))
}

#[test]
fn a_tenant_key_has_no_owner_unless_one_is_given() {
    let app = spawn_app();
    let tenant = new_tenant(&app);
    let path = format!("/v3/accounts/{}/api-keys", id_of(&tenant));
    let key = app
        .post(&path, &json!({"name": unique("k")}))
        .expect(201)
        .clone();
    assert!(key.get("owner").is_none(), "no default owner: {key}");
    let read = app
        .get(&format!("{path}/{}", id_of(&key)))
        .expect(200)
        .clone();
    assert!(read.get("owner").is_none(), "{read}");
    // Given, it is kept.
    let admin = tenant["admin_id"].as_str().unwrap();
    let owned = app
        .post(&path, &json!({"name": unique("k"), "owner": admin}))
        .expect(201)
        .clone();
    assert_eq!(owned["owner"], admin);
    // The own account's route keeps defaulting to the caller's user.
    let me = id_of(app.get("/v3/users/me").expect(200));
    assert_eq!(
        new_key(&app, json!({"name": unique("k")}))["owner"],
        me.as_str()
    );
}

#[test]
fn invitations_show_the_name_and_type_of_their_login_profiles() {
    let app = spawn_app();
    let idp = new_identity_provider(&app);
    let name = app
        .get(&format!("/v3/identity-providers/{idp}"))
        .expect(200)["name"]
        .clone();
    let created = app
        .post(
            "/v3/user-invitations",
            &json!({"email": email(), "login_profiles": [{"id": idp}]}),
        )
        .expect(201)
        .clone();
    let expected = json!([{"id": idp, "name": name, "type": "SAML2"}]);
    assert_eq!(created["login_profiles"], expected, "{created}");
    let id = id_of(&created);
    let read = app
        .get(&format!("/v3/user-invitations/{id}"))
        .expect(200)
        .clone();
    assert_eq!(read["login_profiles"], expected);
    let listed = app.get("/v3/user-invitations").expect(200).clone();
    let row = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["login_profiles"], expected);
}

#[test]
fn an_empty_login_profiles_list_is_400_and_null_changes_nothing() {
    let app = spawn_app();
    let user = app
        .post("/v3/users", &json!({"email": email()}))
        .expect(201)
        .clone();
    let path = format!("/v3/users/{}", id_of(&user));
    let r = app.put(&path, &json!({"login_profiles": []}));
    assert_eq!(validation_fields(&r), ["login_profiles"]);
    assert!(
        r.body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be empty"),
        "{}",
        r.text
    );
    let r = app.put("/v3/users/me", &json!({"login_profiles": []}));
    assert_eq!(validation_fields(&r), ["login_profiles"]);
    // `null` is "not given" (what the Python SDK sends for an empty list).
    let same = app
        .put(&path, &json!({"login_profiles": null, "full_name": "F"}))
        .expect(200)
        .clone();
    assert_eq!(same["login_profiles"], json!([]));
    assert_eq!(same["etag"], "2");
}

#[test]
fn only_an_aggregator_admin_changes_a_users_status() {
    let app = spawn_app();
    let tenant = new_tenant(&app);
    let tenant_id = id_of(&tenant);
    let tenant_admin = app.with_key(tenant["admin_key"].as_str().unwrap());
    let user = tenant_admin
        .post(
            "/v3/users",
            &json!({"email": email(), "password": "a long enough password"}),
        )
        .expect(201)
        .clone();
    let own_path = format!("/v3/users/{}", id_of(&user));
    // The tenant's admin is an admin, but not of an aggregator.
    let r = tenant_admin.put(&own_path, &json!({"status": "INACTIVE"}));
    let body = r.expect_error(403);
    assert_eq!(body["type"], "forbidden");
    assert!(
        body["message"].as_str().unwrap().contains("aggregator"),
        "{body}"
    );
    let read = tenant_admin.get(&own_path).expect(200).clone();
    assert_eq!(
        (read["status"].clone(), read["etag"].clone()),
        (json!("ACTIVE"), json!("1"))
    );
    // Echoing the current status, and other fields, is fine.
    tenant_admin
        .put(&own_path, &json!({"status": "ACTIVE", "full_name": "T"}))
        .expect(200);
    // The aggregator's admin changes it, through the tenant route and in its own account.
    let tenant_path = format!("/v3/accounts/{tenant_id}/users/{}", id_of(&user));
    let changed = app
        .put(&tenant_path, &json!({"status": "INACTIVE"}))
        .expect(200)
        .clone();
    assert_eq!(changed["status"], "INACTIVE");
    let mine = app
        .post("/v3/users", &json!({"email": email()}))
        .expect(201)
        .clone();
    app.put(
        &format!("/v3/users/{}", id_of(&mine)),
        &json!({"status": "INACTIVE"}),
    )
    .expect(200);
}

#[test]
fn never_used_keys_and_users_have_last_login_time_zero() {
    let app = spawn_app();
    let account = own_account(&app);
    let key = new_key(&app, json!({"name": unique("k")}));
    assert_eq!(key["last_login_time"], 0, "{key}");
    let path = format!("/v3/api-keys/{}", id_of(&key));
    assert_eq!(app.get(&path).expect(200)["last_login_time"], 0);
    let user = app
        .post("/v3/users", &json!({"email": email()}))
        .expect(201)
        .clone();
    assert_eq!(user["last_login_time"], 0, "{user}");
    let user_path = format!("/v3/users/{}", id_of(&user));
    assert_eq!(app.get(&user_path).expect(200)["last_login_time"], 0);
    let tenant_list = app
        .get(&format!("/v3/accounts/{account}/users"))
        .expect(200)
        .clone();
    for u in tenant_list["data"].as_array().unwrap() {
        assert!(u["last_login_time"].is_i64(), "{u}");
    }
    // Once used, the key's time is a real one.
    app.with_key(key["key"].as_str().unwrap())
        .get("/v3/accounts/me")
        .expect(200);
    let used = app.get(&path).expect(200)["last_login_time"]
        .as_i64()
        .unwrap();
    assert!(used >= key["creation_time"].as_i64().unwrap());
}

#[test]
fn valid_for_days_null_is_the_default() {
    let app = spawn_app();
    let created = app
        .post(
            "/v3/user-invitations",
            &json!({"email": email(), "valid_for_days": null}),
        )
        .expect(201)
        .clone();
    let days = |v: &serde_json::Value, field: &str| {
        let t = time::OffsetDateTime::parse(
            v[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        t.unix_timestamp()
    };
    let valid = days(&created, "expiration") - days(&created, "created_at");
    assert_eq!(valid, 30 * 86_400, "{created}");
    let r = app.post(
        "/v3/user-invitations",
        &json!({"email": email(), "valid_for_days": 0}),
    );
    assert_eq!(validation_fields(&r), ["valid_for_days"]);
}
