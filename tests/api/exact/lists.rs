//! Query strings and methods: empty filter values mean no filter (point 12), and every 405
//! names the methods of its path in `Allow` (point 14).

use super::{new_key, validation_fields};
use crate::common::{ids, spawn_app, unique};
use iamd::api::{routes, Family};
use serde_json::json;

#[test]
fn empty_filter_values_mean_no_filter() {
    let app = spawn_app();
    for i in 0..3 {
        app.post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique(&format!("e{i}")))}),
        )
        .expect(201);
    }
    let all = app.get("/v3/users").expect(200).clone();
    assert_eq!(all["total_count"], 4);
    for query in [
        "status__eq=&email__eq=",
        "status__in=",
        "status__nin=&login_profiles__eq=",
        "status__in=,",
        "limit=&order=&after=&include=",
    ] {
        let r = app.get(&format!("/v3/users?{query}"));
        let page = r.expect(200);
        assert_eq!(ids(page), ids(&all), "{query}");
        assert_eq!(page["total_count"], 4, "{query}");
        assert_eq!(
            (page["limit"].clone(), page["order"].clone()),
            (json!(50), json!("ASC"))
        );
    }
    new_key(&app, json!({"name": unique("k")}));
    let keys = app.get("/v3/api-keys").expect(200).clone();
    let empty = app
        .get("/v3/api-keys?key__eq=&owner__eq=")
        .expect(200)
        .clone();
    assert_eq!(ids(&empty), ids(&keys));
    assert_eq!(empty["total_count"], 2);

    // Wrong values stay 400, naming the parameter.
    for (query, field) in [
        ("limit=0", "limit"),
        ("order=SIDEWAYS", "order"),
        ("status__eq=ACTIVE&nope__eq=", "nope__eq"),
        ("status__like=", "status__like"),
    ] {
        let r = app.get(&format!("/v3/users?{query}"));
        assert_eq!(validation_fields(&r), [field], "{query}");
    }
}

/// `GET` for `DELETE` and the reverse: a method the path does not serve.
fn other_method(served: &[String]) -> &'static str {
    ["PATCH", "PUT", "DELETE", "POST", "GET"]
        .into_iter()
        .find(|m| !served.iter().any(|s| s == m))
        .unwrap()
}

#[test]
fn every_405_lists_the_methods_of_its_path_in_allow() {
    let app = spawn_app();
    let account = super::own_account(&app);
    let mut by_path: Vec<(String, Vec<String>)> = Vec::new();
    for def in routes() {
        for path in def.full_paths() {
            match by_path.iter_mut().find(|(p, _)| *p == path) {
                Some((_, methods)) => methods.push(def.method.to_string()),
                None => by_path.push((path, vec![def.method.to_string()])),
            }
        }
    }
    assert!(routes().iter().any(|d| d.family == Family::Tenant));
    by_path.push(("/health".into(), vec!["GET".into()]));
    let mut wrong = Vec::new();
    for (path, served) in &by_path {
        let concrete: String = path
            .split('/')
            .map(|s| match s {
                "{account_id}" => account.clone(),
                s if s.starts_with('{') => "0123456789abcdef0123456789abcdef".into(),
                s => s.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = other_method(served);
        let r = app.raw(method, &concrete, None, &[]);
        let mut want: Vec<&str> = served.iter().map(String::as_str).collect();
        want.sort();
        let mut got: Vec<&str> = r
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .collect();
        got.sort();
        if r.status != 405 || got != want || r.body["type"] != "method_not_allowed" {
            wrong.push(format!(
                "{method} {path}: {} Allow={:?} {}",
                r.status,
                r.header("allow"),
                r.text
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} paths:\n{}",
        wrong.len(),
        by_path.len(),
        wrong.join("\n")
    );
}

/// Where the document is ambiguous, today's behaviour stays (README § "Conformance: where the
/// API document is ambiguous or silent").
#[test]
fn ambiguous_cases_keep_todays_behaviour() {
    let app = spawn_app();
    // `total_count` without `include=total_count`.
    let users = app.get("/v3/users?limit=2").expect(200).clone();
    assert_eq!(users["total_count"], 1, "{users}");
    // `tier__eq` matching nothing: an empty list.
    let none = app.get("/v3/accounts?tier__eq=99").expect(200).clone();
    assert_eq!(
        (none["data"].clone(), none["total_count"].clone()),
        (json!([]), json!(0))
    );
    // An ACTIVE user is deleted.
    let user = app
        .post(
            "/v3/users",
            &json!({"email": format!("{}@example.com", unique("a")), "password": "a long enough password"}),
        )
        .expect(201)
        .clone();
    assert_eq!(user["status"], "ACTIVE");
    let path = format!("/v3/users/{}", user["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).status, 204);
    app.get(&path).expect_error(404);
}
