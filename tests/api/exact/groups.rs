//! Group membership: unknown groups are 404 on the by-id routes (point 2), the last user
//! of a tenant's Administrators stays (point 5; on the own account's route the document
//! only refuses self-removal, and `policy_groups.rs` tests that keys may then remain), and
//! removing no groups is a no-op (point 13).

use super::{delete_json, group_id, new_key, new_tenant};
use crate::common::{id_of, non_admin, spawn_app, unique, Client, Resp};
use serde_json::json;

const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

#[track_caller]
fn assert_group_not_found(r: &Resp, what: &str) {
    let body = r.expect_error(404);
    assert_eq!(body["type"], "not_found", "{what}: {body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("group") && message.contains("does not exist"),
        "{what}: {message}"
    );
}

/// The membership routes of a user and of a key, under `prefix`, each with an unknown
/// group id and with a group of another account: 404, and the member's groups unchanged.
fn unknown_groups_are_404(admin: &Client, prefix: &str, foreign_group: &str) {
    let user = id_of(
        admin
            .post(
                &format!("{prefix}/users"),
                &json!({"email": format!("{}@example.com", unique("u"))}),
            )
            .expect(201),
    );
    let key = id_of(
        admin
            .post(&format!("{prefix}/api-keys"), &json!({"name": unique("k")}))
            .expect(201),
    );
    for member in [format!("users/{user}"), format!("api-keys/{key}")] {
        let path = format!("{prefix}/{member}/groups");
        for group in [UNKNOWN, foreign_group] {
            let add = admin.post(&path, &json!([group]));
            assert_group_not_found(&add, &format!("POST {path}"));
            let remove = delete_json(admin, &path, &json!([group]));
            assert_group_not_found(&remove, &format!("DELETE {path}"));
        }
        let read = admin.get(&format!("{prefix}/{member}")).expect(200).clone();
        assert_eq!(read["groups"], json!([]), "{read}");
        assert_eq!(read["etag"], "1", "nothing changed: {read}");
    }
}

#[test]
fn unknown_groups_on_the_membership_routes_are_404_on_both_families() {
    let app = spawn_app();
    let tenant = new_tenant(&app);
    let tenant_id = id_of(&tenant);
    let tenant_admin = app.with_key(tenant["admin_key"].as_str().unwrap());
    let tenant_group = group_id(&tenant_admin, "Administrators");
    let own_group = group_id(&app, "Administrators");
    unknown_groups_are_404(&app, "/v3", &tenant_group);
    unknown_groups_are_404(&app, &format!("/v3/accounts/{tenant_id}"), &own_group);
}

#[test]
fn the_me_routes_keep_400_for_unknown_groups_as_the_spec_lists_no_404_there() {
    let app = spawn_app();
    for r in [
        app.post("/v3/api-keys/me/groups", &json!([UNKNOWN])),
        delete_json(&app, "/v3/api-keys/me/groups", &json!(["not-an-id"])),
    ] {
        r.expect_field_error(400, "groups");
    }
}

#[test]
fn removing_no_groups_from_a_key_or_a_user_is_a_200_no_op() {
    let app = spawn_app();
    let (dev, _) = non_admin(&app, true);
    let before = dev.get("/v3/api-keys/me").expect(200).clone();
    let r = delete_json(&dev, "/v3/api-keys/me/groups", &json!([]));
    let body = r.expect(200);
    assert_eq!(body["type"], "success", "{body}");
    assert_eq!(body["id"], before["id"]);
    let key = new_key(&app, json!({"name": unique("k")}));
    let path = format!("/v3/api-keys/{}/groups", id_of(&key));
    delete_json(&app, &path, &json!([])).expect(200);
    let after = dev.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(after["groups"], before["groups"]);
    assert_eq!(after["etag"], before["etag"]);
    // Adding no groups stays a 400 naming `groups`.
    app.post(&path, &json!([]))
        .expect_field_error(400, "groups");

    let me = app.get("/v3/users/me").expect(200).clone();
    let path = format!("/v3/users/{}/groups", id_of(&me));
    let body = delete_json(&app, &path, &json!([])).expect(200).clone();
    assert_eq!(body["object"], "user", "{body}");
    assert_eq!(app.get("/v3/users/me").expect(200)["etag"], me["etag"]);
}

#[test]
fn the_last_user_of_a_tenants_administrators_cannot_be_removed() {
    let app = spawn_app();
    let tenant = new_tenant(&app);
    let (tenant_id, admin_id) = (
        id_of(&tenant),
        tenant["admin_id"].as_str().unwrap().to_string(),
    );
    let tenant_admin = app.with_key(tenant["admin_key"].as_str().unwrap());
    let admins = group_id(&tenant_admin, "Administrators");
    let path = format!("/v3/accounts/{tenant_id}/policy-groups/{admins}/users");
    let r = delete_json(&app, &path, &json!({"users": [admin_id]}));
    r.expect_field_error(400, "users");
    let members = app.get(&path).expect(200).clone();
    assert_eq!(crate::common::ids(&members), [admin_id.as_str()]);
    tenant_admin.get("/v3/users/me").expect(200);

    // With a second admin user, one of them may go.
    let second = id_of(
        app.post(
            &format!("/v3/accounts/{tenant_id}/users"),
            &json!({"email": format!("{}@example.com", unique("u")), "groups": [admins]}),
        )
        .expect(201),
    );
    delete_json(&app, &path, &json!({"users": [admin_id]})).expect(200);
    delete_json(&app, &path, &json!([second])).expect_field_error(400, "users");
}
