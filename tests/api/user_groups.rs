//! A user's groups: list (paging), add, remove, and group changes through PUT.

use super::{account_id, app_with_groups, id_of, ids, new_user, GroupsApp};
use crate::common::non_admin;
use serde_json::json;

#[test]
fn user_groups_list_add_and_remove() {
    let GroupsApp { app, groups, .. } = app_with_groups();
    let [admins, devs, third] = groups.clone();
    let user = new_user(&app, json!({}));
    let path = format!("/v3/users/{}/groups", id_of(&user));
    let empty = app.get(&path).expect(200).clone();
    assert_eq!(
        (empty["object"].clone(), empty["total_count"].clone()),
        (json!("list"), json!(0))
    );
    assert_eq!(empty["has_more"], false);

    let added = app
        .post(&path, &json!([third, devs, admins]))
        .expect(200)
        .clone();
    assert_eq!(added["code"], 200);
    assert_eq!(added["id"], user["id"]);
    assert_eq!(added["object"], "user");
    assert_eq!(added["type"], "success");
    assert_eq!(added["message"], "success");
    assert_eq!(added["request_id"].as_str().unwrap().len(), 32);

    let all = app.get(&path).expect(200).clone();
    assert_eq!(ids(&all), vec![admins.clone(), devs.clone(), third.clone()]);
    assert_eq!(all["total_count"], 3);
    let g = &all["data"][0];
    assert_eq!(
        (g["object"].clone(), g["name"].clone()),
        (json!("group"), json!("Administrators"))
    );
    assert_eq!(g["user_count"], 2);
    assert_eq!(g["apikey_count"], 1);
    assert_eq!(g["account_id"], user["account_id"]);
    for f in ["created_at", "updated_at", "etag"] {
        assert!(g[f].is_string(), "{f}: {g}");
    }
    let first = app.get(&format!("{path}?limit=2")).expect(200).clone();
    assert_eq!(ids(&first), vec![admins.clone(), devs.clone()]);
    assert_eq!(
        (first["has_more"].clone(), first["total_count"].clone()),
        (json!(true), json!(3))
    );
    let next = app
        .get(&format!("{path}?limit=2&after={devs}"))
        .expect(200)
        .clone();
    assert_eq!(ids(&next), vec![third.clone()]);
    assert_eq!(next["has_more"], false);
    let desc = app
        .get(&format!("{path}?order=DESC&include=total_count"))
        .expect(200)
        .clone();
    assert_eq!(
        ids(&desc),
        vec![third.clone(), devs.clone(), admins.clone()]
    );
    app.get(&format!("{path}?limit=1"))
        .expect_field_error(400, "limit");
    app.get(&format!("{path}?name__eq=x"))
        .expect_field_error(400, "name__eq");

    // Already a member: 409; unknown or malformed group: 400; nothing changes either way.
    app.post(&path, &json!([devs])).expect_error(409);
    app.delete(&path)
        .expect_bad_request("A JSON request body is required.");
    let removed = app.raw(
        "DELETE",
        &path,
        Some((
            "application/json",
            json!([devs, third]).to_string().as_bytes(),
        )),
        &[],
    );
    assert_eq!(removed.expect(200)["type"], "success");
    assert_eq!(ids(app.get(&path).expect(200)), vec![admins.clone()]);
    let unknown = "0123456789abcdef0123456789abcdef";
    let r = app.post(&path, &json!([devs, unknown]));
    assert_eq!(r.expect_error(404)["type"], "not_found");
    app.post(&path, &json!(["bad"]))
        .expect_field_error(400, "groups");
    app.post(&path, &json!([]))
        .expect_bad_request("The body must list at least one group id.");
    app.post(&path, &json!({"groups": [devs]}))
        .expect_bad_request("Malformed JSON body");
    assert_eq!(ids(app.get(&path).expect(200)), vec![admins.clone()]);
    // Removing from a group the user is not in is a no-op (retries succeed).
    let again = app.raw(
        "DELETE",
        &path,
        Some(("application/json", json!([devs]).to_string().as_bytes())),
        &[],
    );
    again.expect(200);
    let bad = app.raw(
        "DELETE",
        &path,
        Some(("application/json", json!([unknown]).to_string().as_bytes())),
        &[],
    );
    bad.expect_error(404);
    assert_eq!(app.get(&path).expect(200)["data"][0]["user_count"], 2);

    // Unknown users: 404 for all three.
    let nobody = format!("/v3/users/{unknown}/groups");
    app.get(&nobody).expect_error(404);
    app.post(&nobody, &json!([devs])).expect_error(404);
    app.raw("DELETE", &nobody, Some(("application/json", b"[]")), &[])
        .expect_error(404);

    // Non-admins read but do not change memberships.
    let (dev, dev_id) = non_admin(&app, false);
    assert_eq!(dev.get(&path).expect(200)["total_count"], 1);
    dev.post(&path, &json!([devs])).expect_error(403);
    dev.post(&format!("/v3/users/{dev_id}/groups"), &json!([admins]))
        .expect_error(403);
    let r = dev.raw(
        "DELETE",
        &path,
        Some(("application/json", json!([admins]).to_string().as_bytes())),
        &[],
    );
    r.expect_error(403);
    assert_eq!(ids(app.get(&path).expect(200)), vec![admins.clone()]);

    // The tenant family serves the same handler.
    let tenant = format!(
        "/v3/accounts/{}/users/{}/groups",
        account_id(&app),
        id_of(&user)
    );
    app.post(&tenant, &json!([third])).expect(200);
    assert_eq!(app.get(&tenant).expect(200)["total_count"], 2);
}

#[test]
fn updates_through_put_keep_groups_consistent() {
    let GroupsApp { app, groups, .. } = app_with_groups();
    let [admins, devs, _] = groups.clone();
    let user = new_user(&app, json!({"groups": [devs]}));
    let path = format!("/v3/users/{}", id_of(&user));
    let moved = app
        .put(&path, &json!({"groups": [admins, admins]}))
        .expect(200)
        .clone();
    assert_eq!(moved["groups"], json!([admins]));
    let listed = app.get(&format!("{path}/groups")).expect(200).clone();
    assert_eq!(ids(&listed), vec![admins.clone()]);
    assert_eq!(listed["data"][0]["user_count"], 2);
}
