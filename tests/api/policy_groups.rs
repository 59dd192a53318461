//! Policy groups: `/v3/policy-groups/...` and the tenant twins; membership, counts and the
//! rules about the Administrators group.

use crate::apikeys::delete_json;
use crate::common::{id_of, ids, non_admin, spawn_app, spawn_app_with, unique, Client, TestApp};
use serde_json::{json, Value};

const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

fn group_named(app: &TestApp, name: &str) -> Value {
    app.get(&format!("/v3/policy-groups?name__eq={name}"))
        .expect(200)["data"][0]
        .clone()
}

fn new_user(c: &Client) -> String {
    let email = format!("{}@example.com", unique("m"));
    id_of(c.post("/v3/users", &json!({"email": email})).expect(201))
}

fn new_key(c: &Client) -> String {
    id_of(
        c.post("/v3/api-keys", &json!({"name": unique("k")}))
            .expect(201),
    )
}

/// Every id of a paginated list, following the cursor.
fn all_ids(c: &Client, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page_path = match &after {
            Some(a) => format!("{path}{sep}limit=2&after={a}"),
            None => format!("{path}{sep}limit=2"),
        };
        let page = c.get(&page_path).expect(200).clone();
        let batch = ids(&page);
        seen.extend(batch.clone());
        if !page["has_more"].as_bool().unwrap() {
            return seen;
        }
        after = batch.last().cloned();
    }
}

fn assert_updated(body: &Value, id: &str) {
    assert_eq!(body["object"], "group", "{body}");
    assert_eq!(body["id"], id, "{body}");
    assert_eq!(body["code"], 200, "{body}");
    assert_eq!(body["type"], "success", "{body}");
    assert_eq!(body["message"], "success", "{body}");
    assert_eq!(body["request_id"].as_str().unwrap().len(), 32, "{body}");
}

#[test]
fn create_read_rename_delete() {
    let app = spawn_app();
    let listed = app.get("/v3/policy-groups").expect(200).clone();
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["total_count"], 2);
    let names: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Administrators", "Developers"]);
    let admins = group_named(&app, "Administrators");
    assert_eq!(admins["object"], "group");
    assert_eq!(
        (admins["user_count"].clone(), admins["apikey_count"].clone()),
        (json!(1), json!(1))
    );

    let name = unique("grp");
    let created = app
        .post("/v3/policy-groups", &json!({"name": name}))
        .expect(201)
        .clone();
    let id = id_of(&created);
    assert_eq!(created["object"], "group");
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["etag"], "1");
    assert_eq!(
        created["account_id"],
        app.get("/v3/accounts/me").expect(200)["id"]
    );
    assert_eq!(
        (
            created["user_count"].clone(),
            created["apikey_count"].clone()
        ),
        (json!(0), json!(0))
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        app.get(&format!("/v3/policy-groups/{id}")).expect(200)["name"],
        name.as_str()
    );

    app.post("/v3/policy-groups", &json!({"name": name}))
        .expect_error(409);
    app.post("/v3/policy-groups", &json!({"name": "Administrators"}))
        .expect_error(409);
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": 5}),
    ] {
        app.post("/v3/policy-groups", &bad)
            .expect_field_error(400, "name");
    }
    app.post(
        "/v3/policy-groups",
        &json!({"name": "y", "members": [UNKNOWN]}),
    )
    .expect_field_error(400, "members");

    let filtered = app
        .get(&format!("/v3/policy-groups?name__eq={name}"))
        .expect(200)
        .clone();
    assert_eq!(ids(&filtered), vec![id.clone()]);
    assert_eq!(filtered["total_count"], 1);
    app.get("/v3/policy-groups?name__like=x")
        .expect_field_error(400, "name__like");
    app.get("/v3/policy-groups?status__eq=x")
        .expect_field_error(400, "status__eq");

    let path = format!("/v3/policy-groups/{id}");
    let renamed = app
        .put(&path, &json!({"name": "renamed"}))
        .expect(200)
        .clone();
    assert_updated(&renamed, &id);
    let after = app.get(&path).expect(200).clone();
    assert_eq!(
        (after["name"].clone(), after["etag"].clone()),
        (json!("renamed"), json!("2"))
    );
    app.put(&path, &json!({"name": "Developers"}))
        .expect_field_error(400, "name");
    app.put(&path, &json!({"name": ""}))
        .expect_field_error(400, "name");
    app.put(&path, &json!({})).expect_field_error(400, "name");
    assert_eq!(app.get(&path).expect(200)["name"], "renamed");
    app.put(
        &format!("/v3/policy-groups/{UNKNOWN}"),
        &json!({"name": "z"}),
    )
    .expect_error(404);

    let admins_path = format!("/v3/policy-groups/{}", id_of(&admins));
    app.delete(&admins_path).expect_error(403);
    app.put(&admins_path, &json!({"name": "Admins"}))
        .expect_error(403);
    assert_updated(
        app.put(&admins_path, &json!({"name": "Administrators"}))
            .expect(200),
        &id_of(&admins),
    );

    assert_eq!(app.delete(&path).status, 204);
    app.get(&path).expect_error(404);
    app.delete(&path).expect_error(404);
    app.get("/v3/policy-groups/not-an-id").expect_error(404);
    app.anonymous().get("/v3/policy-groups").expect_error(401);
    app.anonymous().get(&admins_path).expect_error(401);
    assert_eq!(app.get("/v3/policy-groups").expect(200)["total_count"], 2);
}

#[test]
fn members_are_added_listed_and_removed() {
    let app = spawn_app_with(|c| c.limits.max_ids_per_request = 3);
    let mut users: Vec<String> = (0..2).map(|_| new_user(&app)).collect();
    // With a chosen password the user is ACTIVE; the others wait for theirs (RESET).
    let email = format!("{}@example.com", unique("active"));
    users.push(id_of(
        app.post(
            "/v3/users",
            &json!({"email": email, "password": "a long enough password"}),
        )
        .expect(201),
    ));
    let keys: Vec<String> = (0..2).map(|_| new_key(&app)).collect();
    let created = app
        .post(
            "/v3/policy-groups",
            &json!({"name": unique("g"), "members": {"users": [users[0]], "apikeys": [keys[0]]}}),
        )
        .expect(201)
        .clone();
    assert_eq!(
        (
            created["user_count"].clone(),
            created["apikey_count"].clone()
        ),
        (json!(1), json!(1))
    );
    let gid = id_of(&created);
    let path = format!("/v3/policy-groups/{gid}");
    let user_view = app
        .get(&format!("/v3/users/{}", users[0]))
        .expect(200)
        .clone();
    assert_eq!(user_view["groups"], json!([gid]));

    // A failed creation creates nothing.
    let name = unique("g");
    app.post(
        "/v3/policy-groups",
        &json!({"name": name, "members": {"users": [users[1], UNKNOWN]}}),
    )
    .expect_field_error(400, "users");
    assert_eq!(
        app.get(&format!("/v3/policy-groups?name__eq={name}"))
            .expect(200)["data"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/v3/users/{}", users[1])).expect(200)["groups"],
        json!([])
    );
    app.post(
        "/v3/policy-groups",
        &json!({"name": name, "members": {"users": users, "apikeys": keys}}),
    )
    .expect_field_error(400, "apikeys");

    let added = app
        .post(
            &path,
            &json!({"users": [users[1], users[2]], "apikeys": [keys[1]]}),
        )
        .expect(200)
        .clone();
    assert_updated(&added, &gid);
    app.post(&path, &json!({"users": [users[1]]}))
        .expect_error(409);
    app.post(&path, &json!({"apikeys": [keys[0]]}))
        .expect_error(409);
    app.post(&path, &json!({"apikeys": [UNKNOWN]}))
        .expect_field_error(400, "apikeys");
    app.post(&path, &json!({"users": ["nope"]}))
        .expect_field_error(400, "users");
    app.post(&path, &json!({})).expect_field_error(400, "users");
    app.post(&path, &json!({"users": users, "apikeys": keys}))
        .expect_field_error(400, "apikeys");
    app.post(
        &format!("/v3/policy-groups/{UNKNOWN}"),
        &json!({"users": [users[0]]}),
    )
    .expect_error(404);

    let summary = app.get(&path).expect(200).clone();
    assert_eq!(
        (
            summary["user_count"].clone(),
            summary["apikey_count"].clone()
        ),
        (json!(3), json!(2))
    );
    let listed = app.get(&format!("{path}/users")).expect(200).clone();
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["total_count"], 3);
    assert_eq!(listed["data"][0]["object"], "user");
    assert_eq!(ids(&listed), users);
    assert_eq!(all_ids(&app, &format!("{path}/users")), users);
    let mut reversed = users.clone();
    reversed.reverse();
    assert_eq!(
        ids(app.get(&format!("{path}/users?order=DESC")).expect(200)),
        reversed
    );
    let keys_listed = app.get(&format!("{path}/api-keys")).expect(200).clone();
    assert_eq!(keys_listed["total_count"], 2);
    assert_eq!(keys_listed["data"][0]["object"], "api-key");
    assert_eq!(keys_listed["data"][0]["key"].as_str().unwrap().len(), 79);
    assert_eq!(ids(&keys_listed), keys);
    assert_eq!(all_ids(&app, &format!("{path}/api-keys")), keys);
    app.get(&format!("{path}/api-keys?status__eq=ACTIVE"))
        .expect_field_error(400, "status__eq");
    app.get(&format!("/v3/policy-groups/{UNKNOWN}/users"))
        .expect_error(404);
    app.get(&format!("/v3/policy-groups/{UNKNOWN}/api-keys"))
        .expect_error(404);

    // Status filters on the users of a group.
    let status = app.get(&format!("/v3/users/{}", users[0])).expect(200)["status"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(status, "ACTIVE");
    let active = app
        .get(&format!("{path}/users?status__eq=ACTIVE"))
        .expect(200)
        .clone();
    assert_eq!(
        (ids(&active), active["total_count"].clone()),
        (vec![users[2].clone()], json!(1))
    );
    let inn = app
        .get(&format!("{path}/users?status__in={status},ACTIVE&limit=2"))
        .expect(200)
        .clone();
    assert_eq!(inn["total_count"], 3);
    assert_eq!(inn["has_more"], true);
    assert_eq!(ids(&inn), users[..2].to_vec());
    assert_eq!(
        all_ids(&app, &format!("{path}/users?status__nin=ACTIVE")),
        users[..2].to_vec()
    );
    app.get(&format!("{path}/users?email__eq=x"))
        .expect_field_error(400, "email__eq");

    // Removal: a SubjectList or, as the API's examples send it, a bare array.
    let removed = delete_json(
        &app,
        &format!("{path}/users"),
        &json!({"users": [users[0]]}),
    )
    .expect(200)
    .clone();
    assert_updated(&removed, &gid);
    delete_json(&app, &format!("{path}/users"), &json!([users[1]])).expect(200);
    delete_json(
        &app,
        &format!("{path}/api-keys"),
        &json!({"apikeys": [keys[0]]}),
    )
    .expect(200);
    delete_json(&app, &format!("{path}/api-keys"), &json!([keys[1]])).expect(200);
    delete_json(&app, &format!("{path}/users"), &json!({})).expect_field_error(400, "users");
    delete_json(
        &app,
        &format!("{path}/api-keys"),
        &json!({"users": [users[2]]}),
    )
    .expect_field_error(400, "apikeys");
    delete_json(&app, &format!("{path}/users"), &json!([UNKNOWN])).expect_field_error(400, "users");
    delete_json(&app, &format!("{path}/users"), &json!(["bad"])).expect_field_error(400, "users");
    delete_json(
        &app,
        &format!("{path}/users"),
        &json!(users.iter().chain(&keys).collect::<Vec<_>>()),
    )
    .expect_field_error(400, "users");
    delete_json(
        &app,
        &format!("/v3/policy-groups/{UNKNOWN}/users"),
        &json!([users[2]]),
    )
    .expect_error(404);
    delete_json(
        &app,
        &format!("/v3/policy-groups/{UNKNOWN}/api-keys"),
        &json!([keys[0]]),
    )
    .expect_error(404);
    let summary = app.get(&path).expect(200).clone();
    assert_eq!(
        (
            summary["user_count"].clone(),
            summary["apikey_count"].clone()
        ),
        (json!(1), json!(0))
    );
    assert_eq!(
        ids(app.get(&format!("{path}/users")).expect(200)),
        vec![users[2].clone()]
    );
    assert_eq!(
        app.get(&format!("/v3/api-keys/{}", keys[0])).expect(200)["groups"],
        json!([])
    );

    // Deleting the group takes it off its members.
    assert_eq!(app.delete(&path).status, 204);
    assert_eq!(
        app.get(&format!("/v3/users/{}", users[2])).expect(200)["groups"],
        json!([])
    );
}

#[test]
fn administrators_keep_a_member_and_nobody_removes_themselves() {
    let app = spawn_app();
    let admins = id_of(&group_named(&app, "Administrators"));
    let path = format!("/v3/policy-groups/{admins}");
    let me_user = id_of(app.get("/v3/users/me").expect(200));
    let me_key = id_of(app.get("/v3/api-keys/me").expect(200));
    delete_json(&app, &format!("{path}/users"), &json!([me_user])).expect_field_error(400, "users");
    delete_json(&app, &format!("{path}/api-keys"), &json!([me_key]))
        .expect_field_error(400, "apikeys");
    delete_json(
        &app,
        &format!("{path}/api-keys"),
        &json!({"apikeys": [me_key]}),
    )
    .expect_field_error(400, "apikeys");

    // Another admin may remove them. (A key is an admin only while its owner is one too.)
    let other = new_user(&app);
    app.post(&path, &json!({"users": [other]})).expect(200);
    let second_client = app_key_in(&app, &admins, &other);
    delete_json(&second_client, &format!("{path}/users"), &json!([me_user])).expect(200);
    // The key stays a member, but without its owner it has no admin rights.
    app.get("/v3/policy-groups").expect(200);
    app.post("/v3/policy-groups", &json!({"name": "x"}))
        .expect_error(403);
    delete_json(
        &second_client,
        &format!("{path}/api-keys"),
        &json!([me_key]),
    )
    .expect(200);
    let summary = second_client.get(&path).expect(200).clone();
    assert_eq!(
        (
            summary["user_count"].clone(),
            summary["apikey_count"].clone()
        ),
        (json!(1), json!(1))
    );
    // Neither the second admin's user nor its key may take itself out.
    let second_id = id_of(second_client.get("/v3/api-keys/me").expect(200));
    delete_json(&second_client, &format!("{path}/users"), &json!([other]))
        .expect_field_error(400, "users");
    delete_json(
        &second_client,
        &format!("{path}/api-keys"),
        &json!([second_id]),
    )
    .expect_field_error(400, "apikeys");

    // The very last member stays: a tenant's Administrators, managed by the parent's admin.
    let tenant = second_client
        .post(
            "/v3/accounts",
            &json!({"display_name": unique("t"), "end_market": "IT",
                    "admin_email": format!("{}@example.com", unique("ta"))}),
        )
        .expect(201)
        .clone();
    let t = format!("/v3/accounts/{}", id_of(&tenant));
    let t_admins = id_of(
        &second_client
            .get(&format!("{t}/policy-groups?name__eq=Administrators"))
            .expect(200)["data"][0],
    );
    let t_path = format!("{t}/policy-groups/{t_admins}");
    let t_key = app.with_key(tenant["admin_key"].as_str().unwrap());
    let t_key_id = id_of(t_key.get("/v3/api-keys/me").expect(200));
    delete_json(
        &second_client,
        &format!("{t_path}/api-keys"),
        &json!([t_key_id]),
    )
    .expect(200);
    let last = second_client.get(&t_path).expect(200).clone();
    assert_eq!(
        (last["user_count"].clone(), last["apikey_count"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(
        ids(second_client.get(&format!("{t_path}/users")).expect(200)),
        vec![tenant["admin_id"].as_str().unwrap().to_string()]
    );
    delete_json(
        &second_client,
        &format!("{t_path}/users"),
        &json!([tenant["admin_id"]]),
    )
    .expect_field_error(400, "users");
    // Its key, out of Administrators, still authenticates, without admin rights.
    t_key.get("/v3/accounts/me").expect(200);
    t_key
        .post("/v3/policy-groups", &json!({"name": "x"}))
        .expect_error(403);
}

/// A new admin key (owned by `owner`) created by admin client `c`.
fn app_key_in(c: &Client, admins: &str, owner: &str) -> Client {
    let k = c
        .post(
            "/v3/api-keys",
            &json!({"name": unique("a3"), "owner": owner, "groups": [admins]}),
        )
        .expect(201)
        .clone();
    c.with_key(k["key"].as_str().unwrap())
}

#[test]
fn only_admins_change_groups() {
    let app = spawn_app();
    let (dev, dev_user) = non_admin(&app, true);
    let developers = id_of(&group_named(&app, "Developers"));
    let admins = id_of(&group_named(&app, "Administrators"));
    let path = format!("/v3/policy-groups/{developers}");
    let key = new_key(&app);

    // Reads are open.
    assert_eq!(dev.get("/v3/policy-groups").expect(200)["total_count"], 2);
    dev.get(&path).expect(200);
    assert_eq!(
        ids(dev.get(&format!("{path}/users")).expect(200)),
        vec![dev_user.clone()]
    );
    dev.get(&format!("{path}/api-keys")).expect(200);

    // Every change is refused and changes nothing.
    dev.post("/v3/policy-groups", &json!({"name": "mine"}))
        .expect_error(403);
    dev.put(&path, &json!({"name": "Devs"})).expect_error(403);
    dev.post(&path, &json!({"apikeys": [key]}))
        .expect_error(403);
    dev.post(
        &format!("/v3/policy-groups/{admins}"),
        &json!({"users": [dev_user]}),
    )
    .expect_error(403);
    delete_json(&dev, &format!("{path}/users"), &json!([dev_user])).expect_error(403);
    delete_json(&dev, &format!("{path}/api-keys"), &json!([key])).expect_error(403);
    dev.delete(&path).expect_error(403);
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    dev.get(&format!("/v3/accounts/{account}/policy-groups"))
        .expect_error(403);
    let after = app.get(&path).expect(200).clone();
    assert_eq!(after["name"], "Developers");
    assert_eq!(after["etag"], "1");
    assert_eq!(
        (after["user_count"].clone(), after["apikey_count"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(app.get("/v3/policy-groups").expect(200)["total_count"], 2);
}

#[test]
fn tenant_routes_reach_the_same_groups() {
    let app = spawn_app();
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/v3/accounts/{account}/policy-groups");
    let user = new_user(&app);
    let created = app
        .post(
            &base,
            &json!({"name": unique("t"), "members": {"users": [user]}}),
        )
        .expect(201)
        .clone();
    let gid = id_of(&created);
    assert_eq!(
        app.get(&format!("/v3/policy-groups/{gid}")).expect(200)["user_count"],
        1
    );
    assert_eq!(
        ids(app.get(&format!("{base}/{gid}/users")).expect(200)),
        vec![user.clone()]
    );
    assert_updated(
        app.put(&format!("{base}/{gid}"), &json!({"name": "tenant"}))
            .expect(200),
        &gid,
    );
    delete_json(&app, &format!("{base}/{gid}/users"), &json!([user])).expect(200);
    assert_eq!(
        app.get(&format!("{base}/{gid}/api-keys")).expect(200)["total_count"],
        0
    );
    assert_eq!(app.delete(&format!("{base}/{gid}")).status, 204);
    app.get(&format!("/v3/accounts/{UNKNOWN}/policy-groups"))
        .expect_error(404);
}

#[test]
fn counts_stay_exact_under_concurrent_membership_changes() {
    let app = spawn_app();
    let groups: Vec<String> = (0..2)
        .map(|_| {
            id_of(
                app.post("/v3/policy-groups", &json!({"name": unique("c")}))
                    .expect(201),
            )
        })
        .collect();
    let users: Vec<String> = (0..5).map(|_| new_user(&app)).collect();
    let keys: Vec<String> = (0..5).map(|_| new_key(&app)).collect();
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            let c = app.client.clone();
            let (groups, users, keys) = (groups.clone(), users.clone(), keys.clone());
            std::thread::spawn(move || {
                let mut seed = t * 7919 + 17;
                let mut next = |n: usize| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) % n as u64) as usize
                };
                for _ in 0..25 {
                    let g = &groups[next(groups.len())];
                    let path = format!("/v3/policy-groups/{g}");
                    let (field, id) = if next(2) == 0 {
                        ("users", users[next(users.len())].clone())
                    } else {
                        ("apikeys", keys[next(keys.len())].clone())
                    };
                    match next(3) {
                        0 => {
                            let r = c.post(&path, &json!({ field: [id] }));
                            assert!(r.status == 200 || r.status == 409, "{}", r.text);
                        }
                        1 => {
                            let route = if field == "users" {
                                "users"
                            } else {
                                "api-keys"
                            };
                            delete_json(&c, &format!("{path}/{route}"), &json!([id])).expect(200);
                        }
                        _ => {
                            // A key's own group routes change the same membership.
                            if field == "apikeys" {
                                let r = c.post(&format!("/v3/api-keys/{id}/groups"), &json!([g]));
                                assert!(r.status == 200 || r.status == 409, "{}", r.text);
                            } else {
                                c.get(&path).expect(200);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for g in &groups {
        let path = format!("/v3/policy-groups/{g}");
        let summary = app.get(&path).expect(200).clone();
        let listed_users = all_ids(&app, &format!("{path}/users"));
        let listed_keys = all_ids(&app, &format!("{path}/api-keys"));
        assert_eq!(summary["user_count"], listed_users.len(), "{summary}");
        assert_eq!(summary["apikey_count"], listed_keys.len(), "{summary}");
        for u in &users {
            let member = app.get(&format!("/v3/users/{u}")).expect(200)["groups"]
                .as_array()
                .unwrap()
                .contains(&json!(g));
            assert_eq!(
                member,
                listed_users.contains(u),
                "user {u} and group {g} disagree"
            );
        }
        for k in &keys {
            let member = app.get(&format!("/v3/api-keys/{k}")).expect(200)["groups"]
                .as_array()
                .unwrap()
                .contains(&json!(g));
            assert_eq!(
                member,
                listed_keys.contains(k),
                "key {k} and group {g} disagree"
            );
        }
    }
}
