//! The list conventions (limit, after, order, total_count, filters), on users.

use crate::common::{ids, spawn_app, unique};
use serde_json::json;

#[test]
fn pages_follow_the_cursor_in_both_orders() {
    let app = spawn_app();
    let admin = app.get("/v3/users/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut created = vec![admin];
    for i in 0..6 {
        let email = format!("{}@example.com", unique(&format!("p{i}")));
        let u = app
            .post("/v3/users", &json!({"email": email}))
            .expect(201)
            .clone();
        created.push(u["id"].as_str().unwrap().to_string());
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v3/users?limit=2&after={a}"),
            None => "/v3/users?limit=2".to_string(),
        };
        let page = app.get(&path).expect(200).clone();
        assert_eq!(page["object"], "list");
        assert_eq!(page["limit"], 2);
        assert_eq!(page["order"], "ASC");
        assert_eq!(page["total_count"], 7);
        let batch = ids(&page);
        assert!(batch.len() <= 2);
        seen.extend(batch.clone());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = batch.last().cloned();
    }
    assert_eq!(
        seen, created,
        "ASC pages are creation order, nothing lost or repeated"
    );

    let desc = app.get("/v3/users?order=DESC&limit=3").expect(200).clone();
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(ids(&desc), reversed[..3].to_vec());
    assert_eq!(desc["has_more"], true);
    let next = app
        .get(&format!(
            "/v3/users?order=DESC&limit=3&after={}",
            reversed[2]
        ))
        .expect(200)
        .clone();
    assert_eq!(ids(&next), reversed[3..6].to_vec());
    assert_eq!(next["after"], reversed[2].as_str());

    let all = app.get("/v3/users?limit=1000").expect(200).clone();
    assert_eq!(all["has_more"], false);
    assert_eq!(ids(&all).len(), 7);
}

#[test]
fn limits_and_order_are_checked() {
    let app = spawn_app();
    for bad in ["limit=1", "limit=1001", "limit=-5", "order=SIDEWAYS"] {
        let r = app.get(&format!("/v3/users?{bad}"));
        let name = bad.split('=').next().unwrap();
        r.expect_field_error(400, name);
    }
    assert_eq!(app.get("/v3/users").expect(200)["limit"], 50);
    assert_eq!(app.get("/v3/users?order=desc").expect(200)["order"], "DESC");
}

#[test]
fn filters_select_and_unknown_filters_are_named() {
    let app = spawn_app();
    let email = format!("{}@example.com", unique("f"));
    let created = app
        .post("/v3/users", &json!({"email": email}))
        .expect(201)
        .clone();
    assert_eq!(created["status"], "RESET");
    app.post(
        "/v3/users",
        &json!({"email": format!("{}@example.com", unique("g")), "password": "long enough pw"}),
    )
    .expect(201);

    let by_email = app
        .get(&format!("/v3/users?email__eq={}", email.to_uppercase()))
        .expect(200)
        .clone();
    assert_eq!(
        ids(&by_email),
        vec![created["id"].as_str().unwrap().to_string()]
    );
    assert_eq!(by_email["total_count"], 1);
    let reset = app.get("/v3/users?status__eq=RESET").expect(200).clone();
    assert_eq!(reset["total_count"], 1);
    let active = app
        .get("/v3/users?status__in=ACTIVE,INVITED")
        .expect(200)
        .clone();
    assert_eq!(active["total_count"], 2);
    let not_active = app.get("/v3/users?status__nin=ACTIVE").expect(200).clone();
    assert_eq!(not_active["total_count"], 1);
    let paged = app
        .get("/v3/users?status__in=ACTIVE,RESET&limit=2")
        .expect(200)
        .clone();
    assert_eq!(paged["total_count"], 3);
    assert_eq!(paged["has_more"], true);

    let unknown = app.get("/v3/users?shoe_size__eq=9");
    unknown.expect_field_error(400, "shoe_size__eq");
    let bad_op = app.get("/v3/users?email__like=x");
    bad_op.expect_field_error(400, "email__like");
}
