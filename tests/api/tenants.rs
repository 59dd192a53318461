//! Tenant accounts: `/v3/accounts` and `/v3/accounts/{account_id}` (create, enroll, read,
//! update, list) and who may call them.

use crate::common::{id_of, ids, non_admin, spawn_app, unique, Client, TestApp};
use serde_json::{json, Value};

/// A creation request with the required field and a unique admin.
pub fn tenant_body(extra: Value) -> Value {
    let u = unique("t");
    let mut body = json!({
        "display_name": format!("tenant-{u}"),
        "end_market": "IT",
        "admin_email": format!("admin-{u}@example.com"),
        "admin_name": format!("adm_{u}"),
        "admin_full_name": format!("Admin {u}"),
        "admin_password": "a long enough password",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// Creates a tenant of the app's root account; returns the 201 body.
fn create_tenant(app: &TestApp, extra: Value) -> Value {
    app.post("/v3/accounts", &tenant_body(extra))
        .expect(201)
        .clone()
}

fn root_id(app: &TestApp) -> String {
    id_of(app.get("/v3/accounts/me").expect(200))
}

fn total(app: &Client, path: &str) -> u64 {
    app.get(path).expect(200)["total_count"].as_u64().unwrap()
}

#[test]
fn create_with_a_password_makes_a_complete_tenant() {
    let app = spawn_app();
    let root = root_id(&app);
    let body = tenant_body(json!({
        "aliases": [unique("alias-")],
        "country": "United Kingdom",
        "company": "ACME",
        "contract_number": "C-1",
        "customer_number": "N-1",
    }));
    let t = app.post("/v3/accounts", &body).expect(201).clone();
    assert_eq!(t["object"], "account");
    assert_eq!(t["id"].as_str().unwrap().len(), 32);
    assert_eq!(t["parent_id"], root.as_str());
    assert_eq!(t["parent_account"]["id"], root.as_str());
    assert_eq!(t["tier"], "1");
    assert_eq!(t["status"], "ACTIVE");
    assert_eq!(t["etag"], "1");
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
    for field in [
        "display_name",
        "end_market",
        "aliases",
        "country",
        "company",
        "contract_number",
        "customer_number",
        "admin_email",
        "admin_full_name",
    ] {
        assert_eq!(t[field], body[field], "{field}");
    }
    assert_eq!(t["admin_name"], body["admin_name"]);
    assert!(
        t.get("admin_password").is_none(),
        "a chosen password is not echoed: {t}"
    );
    let key = t["admin_key"].as_str().unwrap();
    assert!(key.starts_with("ak_"), "{key}");

    // The admin user and its key exist in the tenant, with admin rights there only.
    let tid = id_of(&t);
    let admin_id = t["admin_id"].as_str().unwrap();
    let admin = app
        .get(&format!("/v3/accounts/{tid}/users/{admin_id}"))
        .expect(200)
        .clone();
    assert_eq!(admin["status"], "ACTIVE");
    assert_eq!(admin["email"], body["admin_email"]);
    assert_eq!(admin["username"], body["admin_name"]);
    assert_eq!(admin["account_id"], tid.as_str());
    assert_eq!(admin["groups"].as_array().unwrap().len(), 1);

    let tenant = app.with_key(key);
    let me = tenant.get("/v3/accounts/me").expect(200).clone();
    assert_eq!(me["id"], tid.as_str());
    assert_eq!(me["parent_id"], root.as_str());
    let root_admin = app.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["parent_account"]["id"], root.as_str());
    assert_eq!(me["parent_account"]["admin_email"], root_admin["email"]);
    assert_eq!(tenant.get("/v3/users/me").expect(200)["id"], admin_id);
    assert_eq!(ids(tenant.get("/v3/users").expect(200)), vec![admin_id]);
    let made = tenant
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("u"))}),
        )
        .expect(201)
        .clone();
    assert_eq!(made["account_id"], tid.as_str());
    tenant
        .put(
            "/v3/accounts/me",
            &json!({"display_name": "renamed by its admin"}),
        )
        .expect(200);
    // ... and none elsewhere.
    tenant
        .get(&format!("/v3/users/{}", id_of(&root_admin)))
        .expect_error(404);
    tenant.get("/v3/accounts").expect_error(403);
    tenant
        .get(&format!("/v3/accounts/{root}"))
        .expect_error(403);
    tenant.get(&format!("/v3/accounts/{tid}")).expect_error(403);
    tenant
        .get(&format!("/v3/accounts/{root}/users"))
        .expect_error(403);
    // The root account did not gain users.
    assert_eq!(total(&app, "/v3/users"), 1);
}

#[test]
fn create_without_a_password_generates_one_and_resets() {
    let app = spawn_app();
    let mut body = tenant_body(json!({}));
    body.as_object_mut().unwrap().remove("admin_password");
    let t = app
        .post("/v3/accounts?action=create", &body)
        .expect(201)
        .clone();
    let password = t["admin_password"].as_str().unwrap();
    assert!(password.len() >= 8, "{password}");
    let admin = app
        .get(&format!(
            "/v3/accounts/{}/users/{}",
            id_of(&t),
            t["admin_id"].as_str().unwrap()
        ))
        .expect(200)
        .clone();
    assert_eq!(admin["status"], "RESET");
    // A second read never shows it again.
    let again = app
        .get(&format!("/v3/accounts/{}", id_of(&t)))
        .expect(200)
        .clone();
    for secret in ["admin_password", "admin_key"] {
        assert!(again.get(secret).is_none(), "{secret} in {again}");
    }
}

#[test]
fn enroll_makes_an_enrolling_admin_whose_key_works() {
    let app = spawn_app();
    let t = app
        .post("/v3/accounts?action=enroll", &tenant_body(json!({})))
        .expect(201)
        .clone();
    let admin = app
        .get(&format!(
            "/v3/accounts/{}/users/{}",
            id_of(&t),
            t["admin_id"].as_str().unwrap()
        ))
        .expect(200)
        .clone();
    assert_eq!(admin["status"], "ENROLLING");
    let key = t["admin_key"].as_str().unwrap();
    assert_eq!(
        app.with_key(key).get("/v3/accounts/me").expect(200)["id"],
        t["id"]
    );
}

#[test]
fn an_existing_user_of_the_parent_is_linked_not_duplicated() {
    let app = spawn_app();
    let email = format!("{}@example.com", unique("person"));
    let person = app
        .post(
            "/v3/users",
            &json!({"email": email, "username": unique("person_"), "full_name": "Pat Person",
                    "password": "the person's own password"}),
        )
        .expect(201)
        .clone();
    let t = create_tenant(
        &app,
        json!({"admin_email": email.to_uppercase(), "admin_name": "other_name",
               "admin_full_name": "Other", "admin_password": "not used for a linked user"}),
    );
    assert_eq!(t["admin_email"], email.as_str());
    assert_eq!(t["admin_name"], person["username"]);
    assert_eq!(t["admin_full_name"], "Pat Person");
    assert!(t.get("admin_password").is_none());
    let admin = app
        .get(&format!(
            "/v3/accounts/{}/users/{}",
            id_of(&t),
            t["admin_id"].as_str().unwrap()
        ))
        .expect(200)
        .clone();
    assert_eq!(admin["status"], "ACTIVE", "its status is not modified");
    assert_eq!(admin["username"], person["username"]);
    // Not duplicated in the parent; one user in the tenant.
    assert_eq!(total(&app, "/v3/users"), 2);
    assert_eq!(total(&app, &format!("/v3/accounts/{}/users", id_of(&t))), 1);

    // enroll of an existing RESET user keeps RESET rather than ENROLLING.
    let email = format!("{}@example.com", unique("reset"));
    app.post("/v3/users", &json!({"email": email})).expect(201);
    let t = app
        .post(
            "/v3/accounts?action=enroll",
            &tenant_body(json!({"admin_email": email})),
        )
        .expect(201)
        .clone();
    let admin = app
        .get(&format!(
            "/v3/accounts/{}/users/{}",
            id_of(&t),
            t["admin_id"].as_str().unwrap()
        ))
        .expect(200)
        .clone();
    assert_eq!(admin["status"], "RESET");
}

#[test]
fn the_admin_email_defaults_to_the_account_email() {
    let app = spawn_app();
    let mut body = tenant_body(json!({"email": "info@tenant.example"}));
    body.as_object_mut().unwrap().remove("admin_email");
    let t = app.post("/v3/accounts", &body).expect(201).clone();
    assert_eq!(t["admin_email"], "info@tenant.example");
    assert_eq!(t["email"], "info@tenant.example");

    body.as_object_mut().unwrap().remove("email");
    app.post("/v3/accounts", &body)
        .expect_field_error(400, "admin_email");
}

#[test]
fn invalid_creation_requests_are_400_and_create_nothing() {
    let app = spawn_app();
    let long = "x".repeat(101);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"end_market": null}), "end_market"),
        (json!({"end_market": " "}), "end_market"),
        (json!({"end_market": 5}), "end_market"),
        (json!({"aliases": ["short"]}), "aliases"),
        (
            json!({"aliases": ["same-alias-1", "same-alias-1"]}),
            "aliases",
        ),
        (
            json!({"aliases": (0..11).map(|i| format!("alias-number-{i}")).collect::<Vec<_>>()}),
            "aliases",
        ),
        (json!({"admin_email": "not-an-email"}), "admin_email"),
        (json!({"email": "@nope"}), "email"),
        (json!({"admin_name": "a b"}), "admin_name"),
        (json!({"admin_password": "short"}), "admin_password"),
        (json!({"display_name": long}), "display_name"),
        (json!({"company": long}), "company"),
        (json!({"country": long}), "country"),
        (json!({"admin_full_name": long}), "admin_full_name"),
    ];
    for (extra, field) in cases {
        let body = tenant_body(extra.clone());
        app.post("/v3/accounts", &body)
            .expect_field_error(400, field);
    }
    let mut body = tenant_body(json!({}));
    body.as_object_mut().unwrap().remove("end_market");
    app.post("/v3/accounts", &body)
        .expect_field_error(400, "end_market");
    app.post("/v3/accounts?action=adopt", &tenant_body(json!({})))
        .expect_field_error(400, "action");
    app.raw(
        "POST",
        "/v3/accounts",
        Some(("application/json", b"{not json")),
        &[],
    )
    .expect_bad_request("Malformed JSON body");
    app.raw("POST", "/v3/accounts", Some(("application/json", b"")), &[])
        .expect_bad_request("A JSON request body is required.");
    assert_eq!(total(&app, "/v3/accounts"), 0);
    assert_eq!(total(&app, "/v3/users"), 1);
}

#[test]
fn an_alias_in_use_is_a_conflict() {
    let app = spawn_app();
    let alias = unique("taken-alias-");
    let first = create_tenant(&app, json!({"aliases": [alias]}));
    let err = app
        .post(
            "/v3/accounts",
            &tenant_body(json!({"aliases": [unique("fresh-alias-"), alias]})),
        )
        .expect_error(409)
        .clone();
    assert!(err["message"].as_str().unwrap().contains(&alias), "{err}");
    // The root's own alias counts too.
    let own = unique("root-alias-");
    app.put("/v3/accounts/me", &json!({"aliases": [own]}))
        .expect(200);
    app.post("/v3/accounts", &tenant_body(json!({"aliases": [own]})))
        .expect_error(409);
    assert_eq!(total(&app, "/v3/accounts"), 1);
    // The failed creations left the aliases they did not take free.
    let second = create_tenant(&app, json!({"aliases": [unique("other-alias-")]}));
    let path = format!("/v3/accounts/{}", id_of(&second));
    app.put(&path, &json!({"aliases": [alias]}))
        .expect_error(409);
    assert_eq!(app.get(&path).expect(200)["etag"], "1");
    assert_eq!(
        app.get(&format!("/v3/accounts/{}", id_of(&first)))
            .expect(200)["aliases"],
        json!([alias])
    );
}

#[test]
fn get_reads_a_tenant_or_the_callers_own_account() {
    let app = spawn_app();
    let root = root_id(&app);
    let t = create_tenant(&app, json!({"country": "Ireland"}));
    let tid = id_of(&t);
    let got = app.get(&format!("/v3/accounts/{tid}")).expect(200).clone();
    assert_eq!(got["object"], "account");
    assert_eq!(got["id"], tid.as_str());
    assert_eq!(got["parent_id"], root.as_str());
    assert_eq!(got["country"], "Ireland");
    assert!(got.get("limits").is_none());
    let full = app
        .get(&format!("/v3/accounts/{tid}?include=limits,policies"))
        .expect(200)
        .clone();
    assert!(full["limits"].is_object(), "{full}");
    assert!(full["policies"].is_array(), "{full}");

    // The caller's own id, and /me still being /me.
    let own = app
        .get(&format!("/v3/accounts/{root}?include=sub_accounts"))
        .expect(200)
        .clone();
    assert_eq!(own["id"], root.as_str());
    assert_eq!(
        ids(&json!({"data": own["sub_accounts"]})),
        vec![tid.clone()]
    );
    assert_eq!(app.get("/v3/accounts/me").expect(200)["id"], root.as_str());

    for unknown in ["0".repeat(32), "not-an-id".to_string()] {
        app.get(&format!("/v3/accounts/{unknown}"))
            .expect_error(404);
        app.put(&format!("/v3/accounts/{unknown}"), &json!({"company": "x"}))
            .expect_error(404);
    }
}

#[test]
fn the_parent_updates_a_tenant() {
    let app = spawn_app();
    let t = create_tenant(&app, json!({"company": "Before", "phone_number": "1"}));
    let path = format!("/v3/accounts/{}", id_of(&t));
    let updated = app
        .put(
            &path,
            &json!({"company": "After", "contract_number": "CN-9", "customer_number": "CU-9",
                    "sales_contact": "sales@example.com", "phone_number": null,
                    "password_policy": {"minimum_length": 12}, "idle_timeout": 30,
                    "custom_fields": {"k": "v"}}),
        )
        .expect(200)
        .clone();
    assert_eq!(updated["etag"], "2");
    assert_eq!(updated["company"], "After");
    assert_eq!(updated["contract_number"], "CN-9");
    assert_eq!(updated["customer_number"], "CU-9");
    assert_eq!(updated["sales_contact"], "sales@example.com");
    assert_eq!(updated["phone_number"], Value::Null);
    assert_eq!(updated["password_policy"]["minimum_length"], 12);
    assert_eq!(updated["idle_timeout"], 30);
    assert_eq!(updated["custom_fields"]["k"], "v");
    assert_eq!(app.get(&path).expect(200), &updated);

    // Read-modify-update: the whole read model echoed back with one change.
    let mut echoed = updated.clone();
    echoed["display_name"] = json!("echoed");
    let after = app.put(&path, &echoed).expect(200).clone();
    assert_eq!(after["display_name"], "echoed");
    assert_eq!(after["etag"], "3");
    assert_eq!(after["contract_number"], "CN-9");

    // A blank password policy (what the SDK sends from a fresh entity) changes nothing.
    for blank in [json!({"minimum_length": null}), json!({})] {
        let v = app
            .put(&path, &json!({"password_policy": blank}))
            .expect(200)
            .clone();
        assert_eq!(v["password_policy"]["minimum_length"], 12);
    }
    app.put(&path, &json!({"password_policy": {"minimum_length": 7}}))
        .expect_field_error(400, "password_policy.minimum_length");

    // Bad input: 400 with the fields, nothing changed.
    app.put(
        &path,
        &json!({"email": "nope", "idle_timeout": 500, "mfa_status": "sometimes",
                "aliases": ["x"], "sales_contact": "not mail"}),
    )
    .expect_fields_error(
        400,
        &[
            "email",
            "aliases",
            "idle_timeout",
            "mfa_status",
            "sales_contact",
        ],
    );
    assert_eq!(app.get(&path).expect(200)["etag"], "5");

    // The tenant's own admin may not change what only its parent sets.
    let tenant = app.with_key(t["admin_key"].as_str().unwrap());
    tenant
        .put("/v3/accounts/me", &json!({"contract_number": "mine"}))
        .expect_field_error(400, "contract_number");
    tenant.put("/v3/accounts/me", &after).expect(200);
}

#[test]
fn the_aggregator_updates_its_own_account_by_id() {
    let app = spawn_app();
    let root = root_id(&app);
    let path = format!("/v3/accounts/{root}");
    let v = app
        .put(
            &path,
            &json!({"company": "Root Co", "contract_number": "R-1"}),
        )
        .expect(200)
        .clone();
    assert_eq!(v["company"], "Root Co");
    assert_eq!(v["contract_number"], "R-1");
    assert_eq!(app.get("/v3/accounts/me").expect(200), &v);
}

#[test]
fn list_filters_and_pages() {
    let app = spawn_app();
    let root = root_id(&app);
    let a = create_tenant(&app, json!({"country": "Ireland", "end_market": "IT"}));
    let b = create_tenant(&app, json!({"country": "Finland", "end_market": "Health"}));
    let c = create_tenant(&app, json!({"country": "France", "end_market": "IT"}));
    let all = vec![id_of(&a), id_of(&b), id_of(&c)];

    let list = app.get("/v3/accounts").expect(200).clone();
    assert_eq!(list["object"], "list");
    assert_eq!(list["limit"], 1000);
    assert_eq!(list["order"], "ASC");
    assert_eq!(list["has_more"], false);
    assert_eq!(list["total_count"], 3);
    assert_eq!(ids(&list), all);
    assert!(list["data"][0].get("admin_key").is_none());

    let page = app.get("/v3/accounts?limit=2").expect(200).clone();
    assert_eq!(ids(&page), all[..2].to_vec());
    assert_eq!(page["has_more"], true);
    assert_eq!(page["total_count"], 3);
    let next = app
        .get(&format!("/v3/accounts?limit=2&after={}", all[1]))
        .expect(200)
        .clone();
    assert_eq!(ids(&next), all[2..].to_vec());
    assert_eq!(next["has_more"], false);
    let desc = app.get("/v3/accounts?order=DESC").expect(200).clone();
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(ids(&desc), reversed);

    let cases: Vec<(String, Vec<String>)> = vec![
        ("status__eq=ACTIVE".into(), all.clone()),
        ("status__in=SUSPENDED,ACTIVE".into(), all.clone()),
        ("status__nin=ACTIVE".into(), vec![]),
        ("status__eq=SUSPENDED".into(), vec![]),
        ("tier__eq=1".into(), all.clone()),
        ("tier__eq=2".into(), vec![]),
        (format!("parent__eq={root}"), all.clone()),
        (format!("parent__eq={}", "0".repeat(32)), vec![]),
        ("end_market__eq=IT".into(), vec![id_of(&a), id_of(&c)]),
        ("country__like=LAND".into(), vec![id_of(&a), id_of(&b)]),
        ("country__like=fran".into(), vec![id_of(&c)]),
        (
            "end_market__eq=IT&country__like=land".into(),
            vec![id_of(&a)],
        ),
    ];
    for (query, want) in cases {
        let got = app
            .get(&format!("/v3/accounts?{query}"))
            .expect(200)
            .clone();
        assert_eq!(ids(&got), want, "{query}");
        assert_eq!(got["total_count"], want.len(), "{query}");
    }
    let filtered = app
        .get(&format!(
            "/v3/accounts?end_market__eq=IT&limit=2&after={}",
            id_of(&a)
        ))
        .expect(200)
        .clone();
    assert_eq!(ids(&filtered), vec![id_of(&c)]);
    assert_eq!(
        filtered["total_count"], 2,
        "total_count counts from the start"
    );

    let with = app
        .get("/v3/accounts?include=limits,policies")
        .expect(200)
        .clone();
    assert!(with["data"][0]["limits"].is_object());
    assert!(with["data"][0]["policies"].is_array());
    for bad in ["display_name__eq=x", "tier__in=1,2", "limit=1", "after=zzz"] {
        let parameter = bad.split('=').next().unwrap();
        app.get(&format!("/v3/accounts?{bad}"))
            .expect_field_error(400, parameter);
    }
}

#[test]
fn only_aggregator_admins_manage_tenants() {
    let app = spawn_app();
    let t = create_tenant(&app, json!({}));
    let tid = id_of(&t);
    let (dev, _) = non_admin(&app, false);
    dev.get("/v3/accounts").expect_error(403);
    dev.post("/v3/accounts", &tenant_body(json!({})))
        .expect_error(403);
    dev.raw(
        "POST",
        "/v3/accounts",
        Some(("application/json", b"{broken")),
        &[],
    )
    .expect_error(403);
    dev.get(&format!("/v3/accounts/{tid}")).expect_error(403);
    dev.put(&format!("/v3/accounts/{tid}"), &json!({"company": "x"}))
        .expect_error(403);
    dev.get(&format!("/v3/accounts/{}", "0".repeat(32)))
        .expect_error(403);

    let anonymous = app.anonymous();
    anonymous.get("/v3/accounts").expect_error(401);
    anonymous
        .post("/v3/accounts", &tenant_body(json!({})))
        .expect_error(401);
    anonymous
        .get(&format!("/v3/accounts/{tid}"))
        .expect_error(401);

    // A tenant's admin is an admin, but its account is no aggregator.
    let tenant = app.with_key(t["admin_key"].as_str().unwrap());
    tenant.get("/v3/accounts").expect_error(403);
    tenant
        .post("/v3/accounts", &tenant_body(json!({})))
        .expect_error(403);
    tenant
        .put(&format!("/v3/accounts/{tid}"), &json!({"company": "x"}))
        .expect_error(403);
    assert_eq!(total(&app, "/v3/accounts"), 1);
    assert_eq!(
        app.get(&format!("/v3/accounts/{tid}")).expect(200)["etag"],
        "1"
    );
}

#[test]
fn a_tenant_of_another_parent_is_not_found() {
    let world = crate::isolation::World::build();
    let (r, p) = (&world.root, &world.other);
    let (a, b) = (&world.a, &world.b);
    // R manages A; P manages B and C. Neither sees the other's tenants or the other itself.
    for (caller, foreign) in [(r, b), (r, p), (p, a), (p, r)] {
        let client = world.client(caller);
        client
            .get(&format!("/v3/accounts/{}", foreign.id))
            .expect_error(404);
        client
            .put(
                &format!("/v3/accounts/{}", foreign.id),
                &json!({"company": "hijacked"}),
            )
            .expect_error(404);
        client
            .get(&format!("/v3/accounts/{}/users", foreign.id))
            .expect_error(404);
        let listed = ids(client.get("/v3/accounts").expect(200));
        assert!(!listed.contains(&foreign.id), "{listed:?}");
    }
    assert_eq!(
        ids(world.client(r).get("/v3/accounts").expect(200)),
        vec![a.id.clone()]
    );
    assert_eq!(
        ids(world.client(p).get("/v3/accounts").expect(200)),
        vec![b.id.clone(), world.c.id.clone()]
    );
}
