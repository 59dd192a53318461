//! Every state-changing operation of the spec writes its audit entry: one case per
//! operation (own and tenant routes alike), each calling it once and checking the one new
//! entry of the account's log (action, target, actor and the changed fields).

use crate::common::{id_of, spawn_app, unique, Client, Resp, TestApp};
use iamd::pki::testcerts;
use serde_json::{json, Value};

const GRAY_PNG: &[u8] = include_bytes!("../../../src/branding/testdata/gray-2x9.png");
const BASELINE_JPEG: &[u8] = include_bytes!("../../../src/branding/testdata/baseline-5x3.jpg");
const BOUNDARY: &str = "----iamd-audit-boundary";

enum Body {
    None,
    Json(Value),
    Raw(String, Vec<u8>),
}

/// Whose id the entry's `target_id` must be.
enum Target {
    Id(String),
    /// The `id` of the response (a create).
    Created,
}

/// One call of an operation and the entry it must write.
struct Call {
    method: &'static str,
    path: String,
    body: Body,
    action: &'static str,
    target_type: &'static str,
    target: Target,
    /// Fields the entry must name; with values, exactly these old and new values.
    fields: Vec<(&'static str, Option<(Value, Value)>)>,
    /// New entries (an invitation of a new person also creates the user).
    entries: usize,
}

fn call(method: &'static str, path: String, body: Body) -> Call {
    Call {
        method,
        path,
        body,
        action: "update",
        target_type: "",
        target: Target::Created,
        fields: Vec::new(),
        entries: 1,
    }
}

impl Call {
    fn on(mut self, action: &'static str, target_type: &'static str, target: Target) -> Call {
        self.action = action;
        self.target_type = target_type;
        self.target = target;
        self
    }

    fn field(mut self, name: &'static str, old: Value, new: Value) -> Call {
        self.fields.push((name, Some((old, new))));
        self
    }

    fn named(mut self, name: &'static str) -> Call {
        self.fields.push((name, None));
        self
    }
}

fn json_body(v: Value) -> Body {
    Body::Json(v)
}

fn multipart(bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"i.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Setup helpers: each goes through `p` (`/v3` or a tenant's `/v3/accounts/{id}`).
fn user(c: &Client, p: &str) -> String {
    let email = format!("{}@example.com", unique("au"));
    id_of(
        c.post(
            &format!("{p}/users"),
            &json!({"email": email, "full_name": "Before"}),
        )
        .expect(201),
    )
}

fn group(c: &Client, p: &str) -> String {
    id_of(
        c.post(
            &format!("{p}/policy-groups"),
            &json!({"name": unique("ag")}),
        )
        .expect(201),
    )
}

fn key(c: &Client, p: &str) -> String {
    id_of(
        c.post(&format!("{p}/api-keys"), &json!({"name": "before"}))
            .expect(201),
    )
}

fn idp(c: &Client, p: &str) -> String {
    let body = json!({"name": unique("idp"), "type": "SAML2"});
    id_of(
        c.post(&format!("{p}/identity-providers"), &body)
            .expect(201),
    )
}

fn cert(c: &Client, p: &str) -> String {
    let body = json!({"name": "before", "certificate": testcerts::self_signed(&unique("cn")),
        "service": "lwm2m"});
    id_of(
        c.post(&format!("{p}/trusted-certificates"), &body)
            .expect(201),
    )
}

fn send(c: &Client, method: &str, path: &str, body: Value) -> Resp {
    c.raw(
        method,
        path,
        Some(("application/json", body.to_string().as_bytes())),
        &[],
    )
}

/// The case of `method` on `rest` (the path below `p`), or `None` when there is none.
fn case(method: &str, rest: &str, c: &Client, p: &str) -> Option<Call> {
    use Target::{Created, Id};
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let c_ = c;
    Some(match (method, parts.as_slice()) {
        ("POST", ["users"]) => {
            let email = format!("{}@example.com", unique("au"));
            call(
                "POST",
                format!("{p}/users"),
                json_body(json!({"email": email,
                "password": "a long enough password", "full_name": "New"})),
            )
            .on("create", "user", Created)
            .field("full_name", Value::Null, json!("New"))
            .field("password", Value::Null, json!("(changed)"))
        }
        ("PUT", ["users", "{user_id}"]) => {
            let u = user(c_, p);
            call(
                "PUT",
                format!("{p}/users/{u}"),
                json_body(json!({"full_name": "After"})),
            )
            .on("update", "user", Id(u))
            .field("full_name", json!("Before"), json!("After"))
        }
        ("DELETE", ["users", "{user_id}"]) => {
            let u = user(c_, p);
            call("DELETE", format!("{p}/users/{u}"), Body::None)
                .on("delete", "user", Id(u))
                .field("full_name", json!("Before"), Value::Null)
        }
        ("POST", ["users", "{user_id}", "groups"]) => {
            let (u, g) = (user(c_, p), group(c_, p));
            call(
                "POST",
                format!("{p}/users/{u}/groups"),
                json_body(json!([g])),
            )
            .on("update", "user", Id(u))
            .field("groups", json!([]), json!([g]))
        }
        ("DELETE", ["users", "{user_id}", "groups"]) => {
            let (u, g) = (user(c_, p), group(c_, p));
            c.post(&format!("{p}/users/{u}/groups"), &json!([g]))
                .expect(200);
            call(
                "DELETE",
                format!("{p}/users/{u}/groups"),
                json_body(json!([g])),
            )
            .on("update", "user", Id(u))
            .field("groups", json!([g]), json!([]))
        }
        ("POST", ["users", "{user_id}", "validate-email"]) => {
            let u = user(c_, p);
            call("POST", format!("{p}/users/{u}/validate-email"), Body::None)
                .on("verify_email_sent", "user", Id(u))
                .named("email")
        }
        ("POST", ["api-keys"]) => call(
            "POST",
            format!("{p}/api-keys"),
            json_body(json!({"name": "new"})),
        )
        .on("create", "api-key", Created)
        .field("name", Value::Null, json!("new"))
        .field("secret", Value::Null, json!("(changed)")),
        ("PUT", ["api-keys", "{apikey_id}"]) => {
            let k = key(c_, p);
            call(
                "PUT",
                format!("{p}/api-keys/{k}"),
                json_body(json!({"name": "after"})),
            )
            .on("update", "api-key", Id(k))
            .field("name", json!("before"), json!("after"))
        }
        ("DELETE", ["api-keys", "{apikey_id}"]) => {
            let k = key(c_, p);
            call("DELETE", format!("{p}/api-keys/{k}"), Body::None)
                .on("delete", "api-key", Id(k))
                .field("name", json!("before"), Value::Null)
        }
        ("POST", ["api-keys", "{apikey_id}", "groups"]) => {
            let (k, g) = (key(c_, p), group(c_, p));
            call(
                "POST",
                format!("{p}/api-keys/{k}/groups"),
                json_body(json!([g])),
            )
            .on("update", "api-key", Id(k))
            .field("groups", json!([]), json!([g]))
        }
        ("DELETE", ["api-keys", "{apikey_id}", "groups"]) => {
            let (k, g) = (key(c_, p), group(c_, p));
            c.post(&format!("{p}/api-keys/{k}/groups"), &json!([g]))
                .expect(200);
            call(
                "DELETE",
                format!("{p}/api-keys/{k}/groups"),
                json_body(json!([g])),
            )
            .on("update", "api-key", Id(k))
            .field("groups", json!([g]), json!([]))
        }
        ("POST", ["api-keys", "{apikey_id}", "reset-secret"]) => {
            let k = key(c_, p);
            call("POST", format!("{p}/api-keys/{k}/reset-secret"), Body::None)
                .on("update", "api-key", Id(k))
                .field("secret", json!("(changed)"), json!("(changed)"))
        }
        ("POST", ["policy-groups"]) => call(
            "POST",
            format!("{p}/policy-groups"),
            json_body(json!({"name": "new-group"})),
        )
        .on("create", "policy-group", Created)
        .field("name", Value::Null, json!("new-group")),
        ("PUT", ["policy-groups", "{group_id}"]) => {
            let g = group(c_, p);
            call(
                "PUT",
                format!("{p}/policy-groups/{g}"),
                json_body(json!({"name": "renamed"})),
            )
            .on("update", "policy-group", Id(g))
            .named("name")
        }
        ("DELETE", ["policy-groups", "{group_id}"]) => {
            let g = group(c_, p);
            call("DELETE", format!("{p}/policy-groups/{g}"), Body::None)
                .on("delete", "policy-group", Id(g))
                .named("name")
        }
        ("POST", ["policy-groups", "{group_id}"]) => {
            let (g, u) = (group(c_, p), user(c_, p));
            call(
                "POST",
                format!("{p}/policy-groups/{g}"),
                json_body(json!({"users": [u]})),
            )
            .on("add_members", "policy-group", Id(g))
            .named("users")
        }
        ("DELETE", ["policy-groups", "{group_id}", "users"]) => {
            let (g, u) = (group(c_, p), user(c_, p));
            c.post(&format!("{p}/policy-groups/{g}"), &json!({"users": [u]}))
                .expect(200);
            call(
                "DELETE",
                format!("{p}/policy-groups/{g}/users"),
                json_body(json!({"users": [u]})),
            )
            .on("remove_members", "policy-group", Id(g))
            .named("users")
        }
        ("DELETE", ["policy-groups", "{group_id}", "api-keys"]) => {
            let (g, k) = (group(c_, p), key(c_, p));
            c.post(&format!("{p}/policy-groups/{g}"), &json!({"apikeys": [k]}))
                .expect(200);
            call(
                "DELETE",
                format!("{p}/policy-groups/{g}/api-keys"),
                json_body(json!({"apikeys": [k]})),
            )
            .on("remove_members", "policy-group", Id(g))
            .named("apikeys")
        }
        ("POST", ["user-invitations"]) => {
            let email = format!("{}@example.com", unique("inv"));
            let mut c = call(
                "POST",
                format!("{p}/user-invitations"),
                json_body(json!({"email": email})),
            )
            .on("create", "user-invitation", Created)
            .named("email");
            c.entries = 2; // and the invited user
            c
        }
        ("DELETE", ["user-invitations", "{invitation_id}"]) => {
            let email = format!("{}@example.com", unique("inv"));
            let i = id_of(
                c.post(&format!("{p}/user-invitations"), &json!({"email": email}))
                    .expect(201),
            );
            let mut c = call("DELETE", format!("{p}/user-invitations/{i}"), Body::None)
                .on("delete", "user-invitation", Id(i))
                .named("email");
            c.entries = 2; // and the user it had invited
            c
        }
        ("POST", ["identity-providers"]) => call(
            "POST",
            format!("{p}/identity-providers"),
            json_body(json!({"name": "new-idp", "type": "SAML2"})),
        )
        .on("create", "identity-provider", Created)
        .field("name", Value::Null, json!("new-idp")),
        ("PUT", ["identity-providers", "{identity_provider_id}"]) => {
            let i = idp(c_, p);
            call(
                "PUT",
                format!("{p}/identity-providers/{i}"),
                json_body(json!({"name": "renamed-idp", "type": "SAML2"})),
            )
            .on("update", "identity-provider", Id(i))
            .named("name")
        }
        ("DELETE", ["identity-providers", "{identity_provider_id}"]) => {
            let i = idp(c_, p);
            call("DELETE", format!("{p}/identity-providers/{i}"), Body::None)
                .on("delete", "identity-provider", Id(i))
                .named("name")
        }
        ("POST", ["identity-providers", "{identity_provider_id}", "generate-sp-certificate"]) => {
            let i = idp(c_, p);
            call(
                "POST",
                format!("{p}/identity-providers/{i}/generate-sp-certificate"),
                json_body(json!({})),
            )
            .on("update", "identity-provider", Id(i))
        }
        ("POST", ["identity-providers", "{identity_provider_id}", "delete-sp-certificate"]) => {
            let i = idp(c_, p);
            c.post(
                &format!("{p}/identity-providers/{i}/generate-sp-certificate"),
                &json!({}),
            )
            .expect(200);
            call(
                "POST",
                format!("{p}/identity-providers/{i}/delete-sp-certificate"),
                json_body(json!({})),
            )
            .on("update", "identity-provider", Id(i))
        }
        ("POST", ["trusted-certificates"]) => {
            let body = json!({"name": "new-cert", "service": "bootstrap",
                "certificate": testcerts::self_signed(&unique("cn"))});
            call("POST", format!("{p}/trusted-certificates"), json_body(body))
                .on("create", "trusted-certificate", Created)
                .field("name", Value::Null, json!("new-cert"))
                .field("service", Value::Null, json!("bootstrap"))
        }
        ("PUT", ["trusted-certificates", "{cert_id}"]) => {
            let t = cert(c_, p);
            call(
                "PUT",
                format!("{p}/trusted-certificates/{t}"),
                json_body(json!({"name": "after"})),
            )
            .on("update", "trusted-certificate", Id(t))
            .field("name", json!("before"), json!("after"))
        }
        ("DELETE", ["trusted-certificates", "{cert_id}"]) => {
            let t = cert(c_, p);
            call(
                "DELETE",
                format!("{p}/trusted-certificates/{t}"),
                Body::None,
            )
            .on("delete", "trusted-certificate", Id(t))
            .field("name", json!("before"), Value::Null)
        }
        ("POST", ["developer-certificates"]) => call(
            "POST",
            format!("{p}/developer-certificates"),
            json_body(json!({"name": "dev-cert"})),
        )
        .on("create", "developer-certificate", Created)
        .field("name", Value::Null, json!("dev-cert")),
        ("PUT", ["branding-colors", theme]) => {
            let body = json!([{"reference": "primary", "color": "#112233"}]);
            call(
                "PUT",
                format!("{p}/branding-colors/{theme}"),
                json_body(body),
            )
            .on("update", "branding-colors", Id(theme.to_string()))
            .field("primary", Value::Null, json!("#112233"))
        }
        ("PUT", ["branding-colors", theme, "{reference}"]) => call(
            "PUT",
            format!("{p}/branding-colors/{theme}/secondary"),
            json_body(json!({"color": "#445566"})),
        )
        .on("update", "branding-colors", Id(theme.to_string()))
        .field("secondary", Value::Null, json!("#445566")),
        ("DELETE", ["branding-colors", theme, "{reference}"]) => {
            let path = format!("{p}/branding-colors/{theme}/error_color");
            c.put(&path, &json!({"color": "#778899"})).expect(200);
            call("DELETE", path, Body::None)
                .on("delete", "branding-colors", Id(theme.to_string()))
                .field("error_color", json!("#778899"), Value::Null)
        }
        ("POST", ["branding-images", theme, "{reference}", "upload"]) => call(
            "POST",
            format!("{p}/branding-images/{theme}/brand_logo_square/upload"),
            Body::Raw("image/png".into(), GRAY_PNG.to_vec()),
        )
        .on("update", "branding-images", Id(theme.to_string()))
        .named("brand_logo_square"),
        ("POST", ["branding-images", theme, "{reference}", "upload-multipart"]) => call(
            "POST",
            format!("{p}/branding-images/{theme}/brand_logo_portrait/upload-multipart"),
            Body::Raw(
                format!("multipart/form-data; boundary={BOUNDARY}"),
                multipart(GRAY_PNG),
            ),
        )
        .on("update", "branding-images", Id(theme.to_string()))
        .named("brand_logo_portrait"),
        ("POST", ["branding-images", theme, "{reference}", "clear"]) => {
            let path = format!("{p}/branding-images/{theme}/brand_logo_landscape");
            c.raw(
                "POST",
                &format!("{path}/upload"),
                Some(("image/jpeg", BASELINE_JPEG)),
                &[],
            )
            .expect(201);
            call("POST", format!("{path}/clear"), Body::None)
                .on("delete", "branding-images", Id(theme.to_string()))
                .named("brand_logo_landscape")
        }
        _ => return None,
    })
}

/// The log's entry count.
fn total(c: &Client, log: &str) -> u64 {
    c.get(&format!("{log}?include=total_count&limit=2"))
        .expect(200)["total_count"]
        .as_u64()
        .unwrap()
}

/// Sends `call` and checks that it wrote exactly its entries into `log`.
fn check(c: &Client, log: &str, actor: &Value, op: &str, call: Call) {
    let before = total(c, log);
    let r = match &call.body {
        Body::None => c.raw(call.method, &call.path, None, &[]),
        Body::Json(v) => send(c, call.method, &call.path, v.clone()),
        Body::Raw(t, b) => c.raw(call.method, &call.path, Some((t, b)), &[]),
    };
    assert!(
        (200..300).contains(&r.status),
        "{op}: {} {}",
        r.status,
        r.text
    );
    assert_eq!(total(c, log), before + call.entries as u64, "{op}: entries");
    let newest = c
        .get(&format!("{log}?order=DESC&limit={}", call.entries.max(2)))
        .expect(200)["data"]
        .clone();
    let entry = newest
        .as_array()
        .unwrap()
        .iter()
        .take(call.entries)
        .find(|e| e["target_type"] == call.target_type)
        .unwrap_or_else(|| panic!("{op}: no {} entry in {newest}", call.target_type))
        .clone();
    let target = match call.target {
        Target::Id(id) => id,
        Target::Created => id_of(&r.body),
    };
    assert_eq!(entry["action"], call.action, "{op}: {entry}");
    assert_eq!(entry["target_id"], json!(target), "{op}: {entry}");
    assert_eq!(&entry["actor"]["id"], actor, "{op}: {entry}");
    assert_eq!(
        entry["request_id"],
        json!(r.header("x-request-id").unwrap_or("")),
        "{op}"
    );
    for (name, values) in call.fields {
        let fields = entry["fields"].as_array().unwrap();
        let f = fields
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("{op}: no field {name} in {entry}"));
        if let Some((old, new)) = values {
            assert_eq!(
                (&f["old_value"], &f["new_value"]),
                (&old, &new),
                "{op}: {entry}"
            );
        }
    }
    assert!(!entry.to_string().contains("PRIVATE KEY"), "{op}: {entry}");
}

/// The operations the spec marks as changing state: (method, path).
fn changing_operations() -> Vec<(String, String)> {
    crate::isolation::spec_operations()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect()
}

#[test]
fn every_state_changing_operation_of_the_spec_writes_one_entry() {
    let app = spawn_app();
    let c: &Client = &app;
    let t = app
        .post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
        .expect(201)
        .clone();
    let tenant = id_of(&t);
    let actor = app.get("/v3/api-keys/me").expect(200)["id"].clone();
    let ops = changing_operations();
    assert!(
        ops.len() > 80,
        "the spec lists {} changing operations",
        ops.len()
    );
    let tenant_prefix = format!("/v3/accounts/{tenant}");
    for (method, path) in &ops {
        let op = format!("{method} {path}");
        let rest = path.strip_prefix("/v3/accounts/{account_id}");
        match (method.as_str(), path.as_str(), rest) {
            ("POST", "/v3/accounts", _) => tenant_creation(&app, &actor),
            ("PUT", "/v3/accounts/me", _) => {
                let me = id_of(app.get("/v3/accounts/me").expect(200));
                let call = call(
                    "PUT",
                    path.clone(),
                    json_body(json!({"display_name": "Renamed"})),
                )
                .on("update", "account", Target::Id(me))
                .named("display_name");
                check(c, "/v3/audit-logs", &actor, &op, call);
            }
            ("PUT", "/v3/accounts/{account_id}", _) => {
                let call = call(
                    "PUT",
                    tenant_prefix.clone(),
                    json_body(json!({"display_name": "Tenant renamed"})),
                )
                .on("update", "account", Target::Id(tenant.clone()))
                .named("display_name");
                check(c, &format!("{tenant_prefix}/audit-logs"), &actor, &op, call);
            }
            ("PUT", "/v3/users/me", _) => {
                let me = id_of(app.get("/v3/users/me").expect(200));
                let before = app.get("/v3/users/me").expect(200)["full_name"].clone();
                let call = call(
                    "PUT",
                    path.clone(),
                    json_body(json!({"full_name": "Me Renamed"})),
                )
                .on("update", "user", Target::Id(me))
                .field("full_name", before, json!("Me Renamed"));
                check(c, "/v3/audit-logs", &actor, &op, call);
            }
            ("PUT", "/v3/api-keys/me", _) => {
                let before = app.get("/v3/api-keys/me").expect(200)["name"].clone();
                let call = call(
                    "PUT",
                    path.clone(),
                    json_body(json!({"name": "me-renamed"})),
                )
                .on(
                    "update",
                    "api-key",
                    Target::Id(actor.as_str().unwrap().into()),
                )
                .field("name", before, json!("me-renamed"));
                check(c, "/v3/audit-logs", &actor, &op, call);
            }
            ("POST" | "DELETE", "/v3/api-keys/me/groups", _) => {
                let g = group(c, "/v3");
                let adding = method == "POST";
                if !adding {
                    app.post(path, &json!([g])).expect(200);
                }
                let call = call(
                    if adding { "POST" } else { "DELETE" },
                    path.clone(),
                    json_body(json!([g])),
                )
                .on(
                    "update",
                    "api-key",
                    Target::Id(actor.as_str().unwrap().into()),
                )
                .named("groups");
                check(c, "/v3/audit-logs", &actor, &op, call);
            }
            (_, _, Some(rest)) => {
                let call = case(method, rest, c, &tenant_prefix)
                    .unwrap_or_else(|| panic!("no audit case for {op}"));
                check(c, &format!("{tenant_prefix}/audit-logs"), &actor, &op, call);
            }
            _ => {
                let rest = path.strip_prefix("/v3").unwrap();
                let call = case(method, rest, c, "/v3")
                    .unwrap_or_else(|| panic!("no audit case for {op}"));
                check(c, "/v3/audit-logs", &actor, &op, call);
            }
        }
    }
}

/// POST /v3/accounts: the tenant's log starts with its creation and its admin's, by the
/// aggregator's key; the aggregator's own log gets nothing.
fn tenant_creation(app: &TestApp, actor: &Value) {
    let own_before = total(app, "/v3/audit-logs");
    let t = app
        .post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
        .expect(201)
        .clone();
    let tenant = id_of(&t);
    let log = app
        .get(&format!(
            "/v3/accounts/{tenant}/audit-logs?include=total_count"
        ))
        .expect(200)
        .clone();
    assert_eq!(log["total_count"], 2, "{log}");
    let account = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target_type"] == "account")
        .unwrap()
        .clone();
    assert_eq!(account["action"], "create");
    assert_eq!(account["target_id"], json!(tenant));
    assert_eq!(&account["actor"]["id"], actor);
    assert_eq!(total(app, "/v3/audit-logs"), own_before);
}

#[test]
fn refused_changes_write_no_entry() {
    let app = spawn_app();
    let c: &Client = &app;
    let t = cert(c, "/v3");
    let before = total(c, "/v3/audit-logs");
    let refused = [
        send(
            c,
            "POST",
            "/v3/trusted-certificates",
            json!({"name": "x", "service": "lwm2m", "certificate": "not a certificate"}),
        ),
        send(
            c,
            "PUT",
            &format!("/v3/trusted-certificates/{t}"),
            json!({"service": "nope"}),
        ),
        send(c, "POST", "/v3/developer-certificates", json!({})),
        send(
            c,
            "PUT",
            "/v3/branding-colors/light/primary",
            json!({"color": "no color"}),
        ),
        send(
            c,
            "PUT",
            "/v3/branding-colors/dark",
            json!([{"reference": "primary", "color": "#000000"}, {"reference": "nope", "color": "#000000"}]),
        ),
        c.raw(
            "POST",
            "/v3/branding-images/light/brand_logo_square/upload",
            Some(("image/png", b"not a png")),
            &[],
        ),
    ];
    for r in &refused {
        assert!((400..500).contains(&r.status), "{}", r.text);
    }
    let (dev, _) = crate::common::non_admin(&app, false);
    let before = before + 2; // non_admin's user and key
    dev.delete(&format!("/v3/trusted-certificates/{t}"))
        .expect_error(403);
    assert_eq!(total(c, "/v3/audit-logs"), before);
}
