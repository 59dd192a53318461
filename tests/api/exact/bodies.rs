//! Request bodies, read centrally by the JSON extractor: a missing required field is a
//! `validation_error` naming it (points 1 and 9), and an array is not an object (point 11).

use super::{new_key, new_tenant, own_account, validation_fields};
use crate::common::{id_of, new_identity_provider, spawn_app, unique, TestApp};
use serde_json::json;

/// Every operation whose body has required fields (`required` of its spec definition), on
/// `prefix` (`/v3` or a tenant's `/v3/accounts/{id}`); `{}` is sent to each.
fn required_fields(app: &TestApp, prefix: &str) -> Vec<(&'static str, String, Vec<&'static str>)> {
    let key = id_of(
        &app.post(&format!("{prefix}/api-keys"), &json!({"name": unique("k")}))
            .expect(201)
            .clone(),
    );
    let group = id_of(
        &app.post(
            &format!("{prefix}/policy-groups"),
            &json!({"name": unique("g")}),
        )
        .expect(201)
        .clone(),
    );
    vec![
        ("POST", format!("{prefix}/users"), vec!["email"]),
        ("POST", format!("{prefix}/api-keys"), vec!["name"]),
        ("PUT", format!("{prefix}/api-keys/{key}"), vec!["name"]),
        ("POST", format!("{prefix}/policy-groups"), vec!["name"]),
        (
            "PUT",
            format!("{prefix}/policy-groups/{group}"),
            vec!["name"],
        ),
        ("POST", format!("{prefix}/user-invitations"), vec!["email"]),
        (
            "POST",
            format!("{prefix}/identity-providers"),
            vec!["name", "type"],
        ),
        (
            "POST",
            format!("{prefix}/trusted-certificates"),
            vec!["certificate", "name", "service"],
        ),
    ]
}

#[test]
fn a_body_missing_a_required_field_is_a_validation_error_naming_it() {
    let app = spawn_app();
    let tenant = id_of(&new_tenant(&app));
    let mut cases = required_fields(&app, "/v3");
    cases.extend(required_fields(&app, &format!("/v3/accounts/{tenant}")));
    cases.push(("PUT", "/v3/api-keys/me".into(), vec!["name"]));
    cases.push(("POST", "/v3/developer-certificates".into(), vec!["name"]));
    cases.push(("POST", "/v3/accounts".into(), vec!["end_market"]));
    let mut wrong = Vec::new();
    for (method, path, required) in &cases {
        let r = app.raw(method, path, Some(("application/json", b"{}")), &[]);
        let ok = r.status == 400
            && r.body["type"] == "validation_error"
            && required
                .iter()
                .all(|f| crate::common::field_names(&r.body).iter().any(|n| n == f));
        if !ok {
            wrong.push(format!("{method} {path}: {} {}", r.status, r.text));
        } else {
            r.expect_error(400);
        }
    }
    assert!(
        wrong.is_empty(),
        "not naming the missing field:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn missing_fields_are_named_by_their_path_and_nothing_is_created() {
    let app = spawn_app();
    let before = app.get("/v3/users").expect(200)["total_count"].clone();
    let r = app.post("/v3/users", &json!({"full_name": "No Email"}));
    assert_eq!(validation_fields(&r), ["email"]);
    let message = r.body["fields"][0]["message"].as_str().unwrap();
    assert!(!message.contains("line"), "no parser positions: {message}");

    // Inside an array of objects: the path of the object, then the field.
    let idp = new_identity_provider(&app);
    let nested = app.post(
        "/v3/users",
        &json!({"email": format!("{}@example.com", unique("u")), "login_profiles": [{"id": idp}, {"name": "x"}]}),
    );
    assert_eq!(validation_fields(&nested), ["login_profiles[1].id"]);
    assert_eq!(app.get("/v3/users").expect(200)["total_count"], before);

    // Through the tenant route too.
    let tenant = id_of(&new_tenant(&app));
    let r = app.post(
        &format!("/v3/accounts/{tenant}/api-keys"),
        &json!({"owner": null}),
    );
    assert_eq!(validation_fields(&r), ["name"]);
}

#[test]
fn a_key_update_without_a_name_is_400_naming_name_and_changes_nothing() {
    let app = spawn_app();
    let account = own_account(&app);
    let key = new_key(&app, json!({"name": unique("k")}));
    let id = id_of(&key);
    for path in [
        "/v3/api-keys/me".to_string(),
        format!("/v3/api-keys/{id}"),
        format!("/v3/accounts/{account}/api-keys/{id}"),
    ] {
        let r = app.put(&path, &json!({"status": "ACTIVE"}));
        assert_eq!(validation_fields(&r), ["name"], "{path}");
        let r = app.put(&path, &json!({"name": null}));
        assert_eq!(validation_fields(&r), ["name"], "{path}");
    }
    let after = app.get(&format!("/v3/api-keys/{id}")).expect(200).clone();
    assert_eq!(after["etag"], "1");
    assert_eq!(after["name"], key["name"]);
    app.put(&format!("/v3/api-keys/{id}"), &json!({"name": "renamed"}))
        .expect(200);
}

#[test]
fn an_array_where_the_body_is_an_object_is_400_and_changes_nothing() {
    let app = spawn_app();
    let key = app.get("/v3/api-keys/me").expect(200).clone();
    let account = app.get("/v3/accounts/me").expect(200).clone();
    for (method, path, body) in [
        ("PUT", "/v3/api-keys/me", "[null, null]"),
        ("PUT", "/v3/api-keys/me", r#"["renamed", null, "INACTIVE"]"#),
        ("PUT", "/v3/accounts/me", r#"["renamed"]"#),
        ("PUT", "/v3/users/me", r#"["x@example.com"]"#),
        ("POST", "/v3/users", r#"["x@example.com"]"#),
        ("POST", "/v3/policy-groups", r#"["g"]"#),
        ("POST", "/v3/api-keys", r#"["k"]"#),
    ] {
        let r = app.raw(
            method,
            path,
            Some(("application/json", body.as_bytes())),
            &[],
        );
        let error = r.expect_bad_request("The request body must be a JSON object.");
        assert_eq!(error["type"], "bad_request", "{method} {path}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("JSON object"),
            "{method} {path}: {error}"
        );
    }
    assert_eq!(app.get("/v3/api-keys/me").expect(200)["etag"], key["etag"]);
    assert_eq!(
        app.get("/v3/accounts/me").expect(200)["etag"],
        account["etag"]
    );
    assert_eq!(app.get("/v3/policy-groups").expect(200)["total_count"], 2);
    // Bodies the spec makes arrays stay arrays.
    let developers = super::group_id(&app, "Developers");
    app.post("/v3/api-keys/me/groups", &json!([developers]))
        .expect(200);
}
