//! The audit trail: each change writes exactly one entry, in its own transaction, with the
//! old and new values of the fields it changed; a refused request writes none.

mod coverage;
mod export;
mod signin;

use crate::common::{id_of, non_admin, spawn_app, unique, TestApp};
use serde_json::{json, Value};

/// The newest entry about `target` (sign-in tests check theirs with it).
pub fn latest_about(app: &TestApp, target: &str) -> Value {
    app.get(&format!(
        "/v3/audit-logs?target_id__eq={target}&order=DESC&limit=2"
    ))
    .expect(200)["data"][0]
        .clone()
}

fn entries_for(app: &TestApp, target: &str) -> Vec<Value> {
    app.get(&format!("/v3/audit-logs?target_id__eq={target}&limit=1000"))
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn field<'a>(entry: &'a Value, name: &str) -> &'a Value {
    entry["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {entry}"))
}

#[test]
fn user_changes_write_one_entry_each_with_old_and_new_values() {
    let app = spawn_app();
    let email = format!("{}@example.com", unique("audit"));
    let body = json!({"email": email, "password": "a long enough password", "full_name": "Before"});
    let user = id_of(app.post("/v3/users", &body).expect(201));
    let created = entries_for(&app, &user);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["object"], "audit-log-entry");
    assert_eq!(created[0]["action"], "create");
    assert_eq!(created[0]["target_type"], "user");
    assert_eq!(created[0]["actor"]["type"], "api-key");
    assert_eq!(field(&created[0], "full_name")["new_value"], "Before");
    assert_eq!(field(&created[0], "password")["new_value"], "(changed)");
    assert!(!created[0].to_string().contains("argon"), "no hash leaks");

    let path = format!("/v3/users/{user}");
    app.put(&path, &json!({"full_name": "After"})).expect(200);
    let all = entries_for(&app, &user);
    assert_eq!(all.len(), 2, "{all:?}");
    let updated = &all[1];
    assert_eq!(updated["action"], "update");
    assert_eq!(updated["fields"].as_array().unwrap().len(), 1, "{updated}");
    assert_eq!(field(updated, "full_name")["old_value"], "Before");
    assert_eq!(field(updated, "full_name")["new_value"], "After");
    assert!(updated["request_id"]
        .as_str()
        .is_some_and(|s| s.len() == 32));

    // Refused: an unknown group. Nothing changes, nothing is recorded.
    let unknown = "0".repeat(32);
    app.put(&path, &json!({"full_name": "Refused", "groups": [unknown]}))
        .expect_field_error(400, "groups");
    assert_eq!(entries_for(&app, &user).len(), 2);

    app.delete(&path).expect(204);
    let all = entries_for(&app, &user);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["action"], "delete");
    assert_eq!(field(&all[2], "full_name")["old_value"], "After");

    let filtered = app
        .get(&format!(
            "/v3/audit-logs?target_id__eq={user}&action__in=create,delete&include=total_count"
        ))
        .expect(200)
        .clone();
    assert_eq!(filtered["total_count"], 2);
    let lines = app.get(&format!("/v3/audit-logs?target_id__eq={user}&format=jsonl"));
    assert_eq!(lines.status, 200);
    assert_eq!(lines.text.lines().count(), 3);
}

#[test]
fn groups_and_keys_are_audited_and_the_log_is_for_admins() {
    let app = spawn_app();
    let group = id_of(
        app.post("/v3/policy-groups", &json!({"name": unique("g")}))
            .expect(201),
    );
    let e = entries_for(&app, &group);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0]["action"].as_str(), e[0]["target_type"].as_str()),
        (Some("create"), Some("policy-group"))
    );
    let key = id_of(app.post("/v3/api-keys", &json!({"name": "k1"})).expect(201));
    app.put(&format!("/v3/api-keys/{key}"), &json!({"name": "k2"}))
        .expect(200);
    let e = entries_for(&app, &key);
    let update = e.iter().find(|x| x["action"] == "update").unwrap();
    assert_eq!(field(update, "name")["old_value"], "k1");
    assert_eq!(field(update, "name")["new_value"], "k2");
    // The first start's root account: a "system" entry.
    let boot = app
        .get("/v3/audit-logs?target_type__eq=account&action__eq=create")
        .expect(200)
        .clone();
    assert_eq!(boot["data"][0]["actor"]["type"], "system", "{boot}");
    let (user, _) = non_admin(&app, false);
    user.get("/v3/audit-logs").expect_error(403);
    app.get("/v3/audit-logs?created_at__gte=yesterday")
        .expect_field_error(400, "created_at__gte");
}

#[test]
fn a_tenants_changes_are_in_its_own_log_and_each_log_is_its_accounts() {
    let app = spawn_app();
    let t = app
        .post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
        .expect(201)
        .clone();
    let tenant = id_of(&t);
    let own_key = app.get("/v3/api-keys/me").expect(200)["id"].clone();
    // The aggregator renames a user of the tenant through the tenant route.
    let users = format!("/v3/accounts/{tenant}/users");
    let admin = app.get(&users).expect(200)["data"][0]["id"].clone();
    let admin = admin.as_str().unwrap();
    app.put(
        &format!("{users}/{admin}"),
        &json!({"full_name": "Renamed"}),
    )
    .expect(200);
    let log = app
        .get(&format!(
            "/v3/accounts/{tenant}/audit-logs?include=total_count"
        ))
        .expect(200)
        .clone();
    let entries = log["data"].as_array().unwrap();
    assert_eq!(log["total_count"], 3, "{log}");
    assert!(entries.iter().all(|e| e["account_id"] == json!(tenant)));
    assert!(entries.iter().all(|e| e["actor"]["id"] == own_key), "{log}");
    let update = entries.iter().find(|e| e["action"] == "update").unwrap();
    assert_eq!(field(update, "full_name")["new_value"], "Renamed");
    // Never mixed into the aggregator's own log.
    let own = app.get("/v3/audit-logs?limit=1000").expect(200).clone();
    assert!(own["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["account_id"] != json!(tenant)));
    // The tenant's admin reads its own log, not its parent's.
    let tenant_admin = app.with_key(t["admin_key"].as_str().unwrap());
    assert_eq!(
        tenant_admin.get("/v3/audit-logs").expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let parent = id_of(app.get("/v3/accounts/me").expect(200));
    let refused = tenant_admin.get(&format!("/v3/accounts/{parent}/audit-logs"));
    assert!([403, 404].contains(&refused.status), "{}", refused.status);
}
