//! API keys: `/v3/api-keys/...`, `/v3/api-keys/me/groups` and the tenant twins, with the
//! rules on secrets, ownership and the Administrators group.

use crate::common::{
    files_under, ids, non_admin, spawn_app, spawn_app_with, unique, Client, Resp, TestApp,
};
use serde_json::{json, Value};

/// DELETE with a JSON body (membership removals).
pub fn delete_json(c: &Client, path: &str, body: &Value) -> Resp {
    c.raw(
        "DELETE",
        path,
        Some(("application/json", body.to_string().as_bytes())),
        &[],
    )
}

fn str_of(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {v}"))
        .to_string()
}

/// Creates a key with the admin key; returns the whole create response.
fn new_key(c: &Client, body: Value) -> Value {
    c.post("/v3/api-keys", &body).expect(201).clone()
}

fn group_id(app: &TestApp, name: &str) -> String {
    let list = app
        .get(&format!("/v3/policy-groups?name__eq={name}"))
        .expect(200)
        .clone();
    str_of(&list["data"][0], "id")
}

fn account_id(app: &TestApp) -> String {
    str_of(app.get("/v3/accounts/me").expect(200), "id")
}

fn assert_no_secret(view: &Value) {
    let key = view["key"].as_str().unwrap();
    assert!(key.starts_with("ak_1"), "{view}");
    assert_eq!(key.len(), 79, "only the public part may be shown: {view}");
}

#[test]
fn create_read_update_delete() {
    let app = spawn_app();
    let name = unique("key");
    let created = new_key(&app, json!({"name": name}));
    assert_eq!(created["object"], "api-key");
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["etag"], "1");
    assert_eq!(created["account_id"], account_id(&app).as_str());
    let full = str_of(&created, "key");
    assert_eq!(full.len(), 111, "the create response holds the full key");
    let id = str_of(&created, "id");
    // The owner defaults to the caller's user.
    let me = app.get("/v3/users/me").expect(200).clone();
    assert_eq!(created["owner"], me["id"]);

    let got = app.get(&format!("/v3/api-keys/{id}")).expect(200).clone();
    assert_no_secret(&got);
    assert!(full.starts_with(got["key"].as_str().unwrap()));
    assert_eq!(got["name"], name.as_str());
    assert!(got["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(got["creation_time"].is_i64());

    let renamed = app
        .put(
            &format!("/v3/api-keys/{id}"),
            &json!({"name": "renamed", "owner": null, "status": null}),
        )
        .expect(200)
        .clone();
    assert_eq!(renamed["name"], "renamed");
    assert_eq!(renamed["etag"], "2");
    assert_no_secret(&renamed);
    app.put(&format!("/v3/api-keys/{id}"), &json!({"name": ""}))
        .expect_field_error(400, "name");
    app.put(
        &format!("/v3/api-keys/{id}"),
        &json!({"name": "x", "status": "SLEEPY"}),
    )
    .expect_field_error(400, "status");
    app.put(
        &format!("/v3/api-keys/{id}"),
        &json!({"name": "x", "owner": "0123456789abcdef0123456789abcdef"}),
    )
    .expect_field_error(400, "owner");
    let after = app.get(&format!("/v3/api-keys/{id}")).expect(200).clone();
    assert_eq!(
        (after["name"].clone(), after["etag"].clone()),
        (json!("renamed"), json!("2")),
        "failed updates change nothing"
    );

    assert!(ids(app.get("/v3/api-keys").expect(200)).contains(&id));
    let deleted = app.delete(&format!("/v3/api-keys/{id}"));
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    app.get(&format!("/v3/api-keys/{id}")).expect_error(404);
    app.delete(&format!("/v3/api-keys/{id}")).expect_error(404);
    app.put(&format!("/v3/api-keys/{id}"), &json!({"name": "y"}))
        .expect_error(404);
    app.get("/v3/api-keys/not-an-id").expect_error(404);
    app.delete("/v3/api-keys/0123456789abcdef0123456789abcdef")
        .expect_error(404);
    app.anonymous().get("/v3/api-keys").expect_error(401);
    app.anonymous()
        .get(&format!("/v3/api-keys/{id}"))
        .expect_error(401);
}

#[test]
fn deleted_and_inactive_keys_are_rejected_at_once() {
    let app = spawn_app();
    let created = new_key(&app, json!({"name": unique("k")}));
    let (id, full) = (str_of(&created, "id"), str_of(&created, "key"));
    let other = app.with_key(&full);
    other.get("/v3/accounts/me").expect(200);
    app.put(
        &format!("/v3/api-keys/{id}"),
        &json!({"name": "k", "status": "INACTIVE"}),
    )
    .expect(200);
    other.get("/v3/accounts/me").expect_error(401);
    app.put(
        &format!("/v3/api-keys/{id}"),
        &json!({"name": "k", "status": "ACTIVE"}),
    )
    .expect(200);
    other.get("/v3/accounts/me").expect(200);
    assert_eq!(app.delete(&format!("/v3/api-keys/{id}")).status, 204);
    other.get("/v3/accounts/me").expect_error(401);
}

#[test]
fn reset_secret_on_the_tenant_route_replaces_the_secret_at_once() {
    let app = spawn_app();
    let account = account_id(&app);
    let created = new_key(&app, json!({"name": unique("k")}));
    let (id, old) = (str_of(&created, "id"), str_of(&created, "key"));
    app.with_key(&old).get("/v3/accounts/me").expect(200);

    let path = format!("/v3/accounts/{account}/api-keys/{id}/reset-secret");
    let reset = app
        .raw("POST", &path, None, &[("Content-Type", "application/json")])
        .expect(200)
        .clone();
    assert_eq!(reset["object"], "api-key");
    assert_eq!(reset["id"], id.as_str());
    assert_eq!(reset["etag"], "2");
    let new = str_of(&reset, "key");
    assert_eq!(new.len(), 111);
    assert_ne!(new, old);
    assert_eq!(new[..79], old[..79], "the public part stays");
    app.with_key(&old).get("/v3/accounts/me").expect_error(401);
    app.with_key(&new).get("/v3/accounts/me").expect(200);
    assert_no_secret(app.get(&format!("/v3/api-keys/{id}")).expect(200));

    app.post(
        &format!("/v3/accounts/{account}/api-keys/0123456789abcdef0123456789abcdef/reset-secret"),
        &json!({}),
    )
    .expect_error(404);
    app.post(
        "/v3/accounts/0123456789abcdef0123456789abcdef/api-keys/0123456789abcdef0123456789abcdef/reset-secret",
        &json!({}),
    )
    .expect_error(404);
    let (dev, _) = non_admin(&app, true);
    dev.post(&path, &json!({})).expect_error(403);
    app.with_key(&new).get("/v3/accounts/me").expect(200);
    app.anonymous().post(&path, &json!({})).expect_error(401);
}

#[test]
fn list_filters_on_key_and_owner_and_pages() {
    let app = spawn_app();
    let (_, user) = non_admin(&app, false);
    let mut created = Vec::new();
    for i in 0..5 {
        let owner = if i % 2 == 0 { Some(user.clone()) } else { None };
        let mut body = json!({"name": unique("list")});
        if let Some(o) = owner {
            body["owner"] = json!(o);
        }
        created.push(new_key(&app, body));
    }
    // Bootstrap key + non_admin's key + 5.
    let all = app.get("/v3/api-keys").expect(200).clone();
    assert_eq!(all["object"], "list");
    assert_eq!(all["total_count"], 7);
    assert_eq!(all["has_more"], false);
    for k in all["data"].as_array().unwrap() {
        assert_no_secret(k);
    }

    let full = str_of(&created[1], "key");
    let public = &full[..79];
    let by_full = app
        .get(&format!("/v3/api-keys?key__eq={full}"))
        .expect(200)
        .clone();
    assert_eq!(ids(&by_full), vec![str_of(&created[1], "id")]);
    assert_eq!(by_full["total_count"], 1);
    assert_no_secret(&by_full["data"][0]);
    let by_public = app
        .get(&format!("/v3/api-keys?key__eq={public}"))
        .expect(200)
        .clone();
    assert_eq!(ids(&by_public), vec![str_of(&created[1], "id")]);
    for nothing in ["garbage", "ak_1", &full[..100]] {
        let r = app
            .get(&format!("/v3/api-keys?key__eq={nothing}"))
            .expect(200)
            .clone();
        assert_eq!(r["data"], json!([]), "{nothing}");
        assert_eq!(r["total_count"], 0);
    }

    let owned = app
        .get(&format!(
            "/v3/api-keys?owner__eq={user}&include=total_count"
        ))
        .expect(200)
        .clone();
    // The non_admin helper's own key, then created[0], [2], [4].
    assert_eq!(owned["total_count"], 4);
    let owned_ids = ids(&owned);
    for i in [0, 2, 4] {
        assert!(owned_ids.contains(&str_of(&created[i], "id")));
    }
    let combined = app
        .get(&format!("/v3/api-keys?owner__eq={user}&key__eq={public}"))
        .expect(200)
        .clone();
    assert_eq!(combined["data"], json!([]), "created[1] has another owner");

    app.get("/v3/api-keys?name__eq=x")
        .expect_field_error(400, "name__eq");
    app.get("/v3/api-keys?owner__neq=x")
        .expect_field_error(400, "owner__neq");
    app.get("/v3/api-keys?limit=1")
        .expect_field_error(400, "limit");

    // Paging: ASC is creation order, DESC reverses it; the cursor loses nothing.
    let everything = ids(&all);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v3/api-keys?limit=2&after={a}"),
            None => "/v3/api-keys?limit=2".into(),
        };
        let page = app.get(&path).expect(200).clone();
        assert_eq!(page["total_count"], 7);
        let batch = ids(&page);
        seen.extend(batch.clone());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = batch.last().cloned();
    }
    assert_eq!(seen, everything);
    let desc = ids(app.get("/v3/api-keys?order=DESC&limit=3").expect(200));
    let mut reversed = everything.clone();
    reversed.reverse();
    assert_eq!(desc, reversed[..3].to_vec());

    // The tenant twin lists the same keys.
    let account = account_id(&app);
    let twin = app
        .get(&format!("/v3/accounts/{account}/api-keys"))
        .expect(200)
        .clone();
    assert_eq!(ids(&twin), everything);
}

#[test]
fn key_groups_can_be_listed_added_and_removed() {
    let app = spawn_app_with(|c| c.limits.max_ids_per_request = 2);
    let developers = group_id(&app, "Developers");
    let admins = group_id(&app, "Administrators");
    let created = new_key(&app, json!({"name": unique("g")}));
    let id = str_of(&created, "id");
    let groups_path = format!("/v3/api-keys/{id}/groups");

    let empty = app.get(&groups_path).expect(200).clone();
    assert_eq!(
        (empty["data"].clone(), empty["total_count"].clone()),
        (json!([]), json!(0))
    );

    let added = app
        .post(&groups_path, &json!([developers]))
        .expect(200)
        .clone();
    assert_eq!(added["object"], "api-key");
    assert_eq!(added["id"], id.as_str());
    assert_eq!(added["type"], "success");
    assert_eq!(added["code"], 200);
    assert_eq!(added["request_id"].as_str().unwrap().len(), 32);
    let listed = app.get(&groups_path).expect(200).clone();
    assert_eq!(ids(&listed), vec![developers.clone()]);
    assert_eq!(listed["data"][0]["object"], "group");
    assert_eq!(listed["data"][0]["name"], "Developers");
    assert_eq!(listed["data"][0]["apikey_count"], 1);
    assert_eq!(
        app.get(&format!("/v3/api-keys/{id}")).expect(200)["groups"],
        json!([developers])
    );

    app.post(&groups_path, &json!([developers]))
        .expect_error(409);
    let unknown = app
        .post(&groups_path, &json!(["0123456789abcdef0123456789abcdef"]))
        .expect_error(404)
        .clone();
    assert_eq!(unknown["type"], "not_found");
    app.post(&groups_path, &json!(["nope"]))
        .expect_field_error(400, "groups");
    app.post(&groups_path, &json!([]))
        .expect_field_error(400, "groups");
    app.post(&groups_path, &json!({"groups": [developers]}))
        .expect_bad_request("Malformed JSON body");
    let too_many = json!([
        "0123456789abcdef0123456789abcde1",
        "0123456789abcdef0123456789abcde2",
        "0123456789abcdef0123456789abcde3"
    ]);
    app.post(&groups_path, &too_many)
        .expect_field_error(400, "groups");
    delete_json(&app, &groups_path, &too_many).expect_field_error(400, "groups");
    app.post(
        "/v3/api-keys/0123456789abcdef0123456789abcdef/groups",
        &json!([developers]),
    )
    .expect_error(404);
    app.get("/v3/api-keys/0123456789abcdef0123456789abcdef/groups")
        .expect_error(404);
    assert_eq!(
        ids(app.get(&groups_path).expect(200)),
        vec![developers.clone()]
    );

    // Admins may put a key in Administrators.
    app.post(&groups_path, &json!([admins])).expect(200);
    let both = app
        .get(&format!("{groups_path}?limit=2&order=DESC"))
        .expect(200)
        .clone();
    assert_eq!(both["total_count"], 2);
    let mut sorted = vec![admins.clone(), developers.clone()];
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids(&both), sorted);
    let paged = app
        .get(&format!("{groups_path}?limit=2&after={}", sorted[1]))
        .expect(200)
        .clone();
    assert_eq!(ids(&paged), vec![sorted[0].clone()]);

    let removed = delete_json(&app, &groups_path, &json!([developers, admins]))
        .expect(200)
        .clone();
    assert_eq!(removed["object"], "api-key");
    assert_eq!(app.get(&groups_path).expect(200)["data"], json!([]));
    app.get(&format!("/v3/api-keys/{id}/groups?name__eq=x"))
        .expect_field_error(400, "name__eq");

    // The tenant twin.
    let account = account_id(&app);
    let twin = format!("/v3/accounts/{account}/api-keys/{id}/groups");
    app.post(&twin, &json!([developers])).expect(200);
    assert_eq!(ids(app.get(&twin).expect(200)), vec![developers.clone()]);
    delete_json(&app, &twin, &json!([developers])).expect(200);
    app.anonymous().get(&twin).expect_error(401);
    app.anonymous().get(&groups_path).expect_error(401);
}

#[test]
fn me_groups_are_the_callers_key_groups() {
    let app = spawn_app();
    let developers = group_id(&app, "Developers");
    let admins = group_id(&app, "Administrators");
    let mine = app.get("/v3/api-keys/me/groups").expect(200).clone();
    assert_eq!(ids(&mine), vec![admins.clone()]);
    assert_eq!(mine["data"][0]["name"], "Administrators");

    let added = app
        .post("/v3/api-keys/me/groups", &json!([developers]))
        .expect(200)
        .clone();
    assert_eq!(added["id"], app.get("/v3/api-keys/me").expect(200)["id"]);
    app.post("/v3/api-keys/me/groups", &json!([developers]))
        .expect_error(409);
    app.post("/v3/api-keys/me/groups", &json!(["bad"]))
        .expect_field_error(400, "groups");
    assert_eq!(
        app.get("/v3/api-keys/me/groups").expect(200)["total_count"],
        2
    );
    delete_json(&app, "/v3/api-keys/me/groups", &json!([developers])).expect(200);
    assert_eq!(
        ids(app.get("/v3/api-keys/me/groups").expect(200)),
        vec![admins]
    );
    delete_json(&app, "/v3/api-keys/me/groups", &json!("x"))
        .expect_bad_request("Malformed JSON body");
    app.anonymous()
        .get("/v3/api-keys/me/groups")
        .expect_error(401);
}

#[test]
fn the_last_administrator_cannot_be_removed_or_deleted() {
    let app = spawn_app();
    // A key is an admin only while its owner is one too, so a key alone in Administrators
    // has no admin rights of its own: the parent's admins act on it through a tenant.
    let tenant = app
        .post(
            "/v3/accounts",
            &json!({"display_name": unique("t"), "end_market": "IT",
                    "admin_email": format!("{}@example.com", unique("ta")),
                    "admin_password": "a long enough password"}),
        )
        .expect(201)
        .clone();
    let t = format!("/v3/accounts/{}", str_of(&tenant, "id"));
    let tenant_key = app.with_key(&str_of(&tenant, "admin_key"));
    let admins = str_of(
        &app.get(&format!("{t}/policy-groups?name__eq=Administrators"))
            .expect(200)["data"][0],
        "id",
    );
    let key_id = str_of(tenant_key.get("/v3/api-keys/me").expect(200), "id");
    let members = format!("{t}/policy-groups/{admins}");
    delete_json(
        &app,
        &format!("{t}/users/{}/groups", str_of(&tenant, "admin_id")),
        &json!([admins]),
    )
    .expect(200);

    // The tenant's admin key is now the only member of its Administrators.
    let summary = app.get(&members).expect(200).clone();
    assert_eq!(
        (
            summary["user_count"].clone(),
            summary["apikey_count"].clone()
        ),
        (json!(0), json!(1))
    );
    app.delete(&format!("{t}/api-keys/{key_id}"))
        .expect_field_error(400, "apikey_id");
    delete_json(
        &app,
        &format!("{t}/api-keys/{key_id}/groups"),
        &json!([admins]),
    )
    .expect_field_error(400, "groups");
    app.put(
        &format!("{t}/api-keys/{key_id}"),
        &json!({"name": "x", "groups": []}),
    )
    .expect_field_error(400, "groups");
    delete_json(&app, &format!("{members}/api-keys"), &json!([key_id]))
        .expect_field_error(400, "apikeys");
    // Without an admin owner the key is no admin itself: it may not leave either.
    delete_json(&tenant_key, "/v3/api-keys/me/groups", &json!([admins])).expect_error(403);
    tenant_key.get("/v3/accounts/me").expect(200);
    let still = tenant_key.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(still["groups"], json!([admins]));
    assert_eq!(
        still["name"], "Administrator key",
        "refused updates change nothing"
    );
}

#[test]
fn non_admins_manage_only_their_own_keys() {
    let app = spawn_app();
    let developers = group_id(&app, "Developers");
    let admins = group_id(&app, "Administrators");
    let other_group = str_of(
        app.post("/v3/policy-groups", &json!({"name": unique("grp")}))
            .expect(201),
        "id",
    );
    let (dev, dev_user) = non_admin(&app, true);
    let admin_key_id = str_of(app.get("/v3/api-keys/me").expect(200), "id");
    let admin_user = str_of(app.get("/v3/users/me").expect(200), "id");

    // Create: own keys only, active, only in the creator's groups, never Administrators.
    let own = dev
        .post(
            "/v3/api-keys",
            &json!({"name": unique("own"), "groups": [developers]}),
        )
        .expect(201)
        .clone();
    assert_eq!(own["owner"], dev_user.as_str());
    let own_id = str_of(&own, "id");
    dev.post("/v3/api-keys", &json!({"name": "x", "groups": [admins]}))
        .expect_error(403);
    let twice = dev
        .post(
            "/v3/api-keys",
            &json!({"name": unique("twice"), "groups": [developers, developers]}),
        )
        .expect(201)
        .clone();
    assert_eq!(twice["groups"], json!([developers]));
    dev.post(
        "/v3/api-keys",
        &json!({"name": "x", "groups": [other_group]}),
    )
    .expect_error(403);
    dev.post("/v3/api-keys", &json!({"name": "x", "owner": admin_user}))
        .expect_error(403);
    dev.post("/v3/api-keys", &json!({"name": "x", "status": "INACTIVE"}))
        .expect_error(403);

    // Read: everything, never secrets.
    let listed = dev.get("/v3/api-keys").expect(200).clone();
    for k in listed["data"].as_array().unwrap() {
        assert_no_secret(k);
    }
    assert_no_secret(dev.get(&format!("/v3/api-keys/{admin_key_id}")).expect(200));
    dev.get(&format!("/v3/api-keys/{admin_key_id}/groups"))
        .expect(200);

    // Update: rename own keys; not owner/status/groups; nothing of others'.
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "owner": null}),
    )
    .expect(200);
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "status": "INACTIVE"}),
    )
    .expect_error(403);
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "owner": admin_user}),
    )
    .expect_error(403);
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "groups": [developers, admins]}),
    )
    .expect_error(403);
    // Groups through PUT follow the same rules as the group routes.
    let groups_of = |k: &str| app.get(&format!("/v3/api-keys/{k}")).expect(200)["groups"].clone();
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "groups": []}),
    )
    .expect(200);
    assert_eq!(groups_of(&own_id), json!([]));
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "groups": [other_group]}),
    )
    .expect_error(403);
    dev.put(
        &format!("/v3/api-keys/{own_id}"),
        &json!({"name": "mine", "groups": [developers, developers]}),
    )
    .expect(200);
    assert_eq!(groups_of(&own_id), json!([developers]));
    dev.put(
        &format!("/v3/api-keys/{admin_key_id}"),
        &json!({"name": "hacked"}),
    )
    .expect_error(403);
    dev.put("/v3/api-keys/me", &json!({"name": "my own key"}))
        .expect(200);

    // Groups: own keys, into the owner's groups, never Administrators.
    let own_groups = format!("/v3/api-keys/{own_id}/groups");
    delete_json(&dev, &own_groups, &json!([developers])).expect(200);
    dev.post(&own_groups, &json!([developers])).expect(200);
    dev.post(&own_groups, &json!([admins])).expect_error(403);
    dev.post(&own_groups, &json!([other_group]))
        .expect_error(403);
    dev.post("/v3/api-keys/me/groups", &json!([admins]))
        .expect_error(403);
    dev.post("/v3/api-keys/me/groups", &json!([developers]))
        .expect(200);
    delete_json(&dev, "/v3/api-keys/me/groups", &json!([developers])).expect(200);
    let admin_groups = format!("/v3/api-keys/{admin_key_id}/groups");
    dev.post(&admin_groups, &json!([developers]))
        .expect_error(403);
    delete_json(&dev, &admin_groups, &json!([admins])).expect_error(403);

    // Tenant routes are for the parent's admins only.
    let account = account_id(&app);
    dev.get(&format!("/v3/accounts/{account}/api-keys"))
        .expect_error(403);
    dev.post(
        &format!("/v3/accounts/{account}/api-keys/{own_id}/reset-secret"),
        &json!({}),
    )
    .expect_error(403);

    // Delete: own keys only.
    dev.delete(&format!("/v3/api-keys/{admin_key_id}"))
        .expect_error(403);
    assert_eq!(dev.delete(&format!("/v3/api-keys/{own_id}")).status, 204);
    app.get("/v3/accounts/me").expect(200);
    let admin_key = app
        .get(&format!("/v3/api-keys/{admin_key_id}"))
        .expect(200)
        .clone();
    assert_eq!(
        admin_key["groups"],
        json!([admins]),
        "refused changes change nothing"
    );
    assert_eq!(admin_key["etag"], "1");
}

#[test]
fn no_issued_secret_is_ever_written_to_the_data_dir() {
    let app = spawn_app();
    let account = account_id(&app);
    let mut issued = Vec::new();
    for i in 0..5 {
        let k = new_key(&app, json!({"name": format!("secret-{i}")}));
        issued.push(str_of(&k, "key"));
        if i == 2 {
            let reset = app
                .post(
                    &format!(
                        "/v3/accounts/{account}/api-keys/{}/reset-secret",
                        str_of(&k, "id")
                    ),
                    &json!({}),
                )
                .expect(200)
                .clone();
            issued.push(str_of(&reset, "key"));
        }
    }
    for (i, full) in issued.iter().enumerate() {
        // issued[2] is the secret that the reset replaced.
        let status = if i == 2 { 401 } else { 200 };
        app.with_key(full).get("/v3/api-keys/me").expect(status);
    }
    let data_dir = app.data_dir.clone();
    let scan = |when: &str| {
        let files = files_under(&data_dir);
        assert!(!files.is_empty());
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            for full in &issued {
                for needle in [full.as_str(), &full[79..]] {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                        "{when}: {} holds an issued secret",
                        file.display()
                    );
                }
            }
        }
    };
    scan("running");
    let dir = app.stop();
    scan("stopped");
    drop(dir);
}
