//! Issue 14: the behaviours the API document states, one module per area, each asserting on
//! the body (the field named in `fields`, header values) and not only the status.

mod bodies;
mod groups;
mod lists;
mod path_ids;
mod reset_secret;
mod saml;
mod users;

use crate::common::{id_of, unique, Client, Resp, TestApp};
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

/// The app's own account id.
pub fn own_account(app: &TestApp) -> String {
    id_of(app.get("/v3/accounts/me").expect(200))
}

/// The id of the group `name` of the caller's account.
pub fn group_id(c: &Client, name: &str) -> String {
    id_of(
        &c.get(&format!("/v3/policy-groups?name__eq={name}"))
            .expect(200)["data"][0],
    )
}

/// A sub-tenant of the app's root account: its 201 body (with `admin_key`, `admin_id`).
pub fn new_tenant(app: &TestApp) -> Value {
    let u = unique("t");
    app.post(
        "/v3/accounts",
        &json!({
            "display_name": format!("tenant-{u}"),
            "end_market": "IT",
            "admin_email": format!("admin-{u}@example.com"),
            "admin_password": "a long enough password",
        }),
    )
    .expect(201)
    .clone()
}

/// A new API key of the caller's account: the whole create response.
pub fn new_key(c: &Client, body: Value) -> Value {
    c.post("/v3/api-keys", &body).expect(201).clone()
}

/// The `fields` of a 400 `validation_error`, after checking that type.
#[track_caller]
pub fn validation_fields(r: &Resp) -> Vec<String> {
    let body = r.expect_error(400);
    assert_eq!(body["type"], "validation_error", "{body}");
    crate::common::field_names(body)
}
