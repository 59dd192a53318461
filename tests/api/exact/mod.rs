//! Issue 14: the behaviours the API document states, one module per area, each asserting on
//! the body (the field named in `fields`, header values) and not only the status.

mod reset_secret;

use crate::common::{unique, Client, TestApp};
use serde_json::{json, Value};

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
