//! Input rules that keep user input from turning into something else: email addresses are
//! one RFC 5321/5322 address (no extra recipients), names are one line of visible text,
//! and `custom_fields` are bounded.

use crate::common::{field_names, id_of, spawn_app, unique, Client, TestApp};
use crate::tenants::tenant_body;
use crate::users::outbox;
use serde_json::{json, Value};

/// Addresses that are not exactly one addr-spec. The first put a second recipient into the
/// outbox `To:` before.
const BAD_EMAILS: &[&str] = &[
    "victim@example.com>, <attacker@evil.example",
    "victim@example.com, attacker@evil.example",
    "Victim <victim@example.com>",
    "victim@example.com\r\nBcc: attacker@evil.example",
    "victim@example.com\n",
    "\"a>, <attacker@evil.example\"@example.com",
    "a@b@example.com",
    "a..b@example.com",
    ".a@example.com",
    "a@-example.com",
    "a@example..com",
    "a b@example.com",
    "victim@example.com\u{202e}",
    "vic\u{0}tim@example.com",
];

fn long_local() -> String {
    format!("{}@example.com", "a".repeat(65))
}

fn long_domain() -> String {
    let label = "d".repeat(60);
    format!("a@{label}.{label}.{label}.{label}.{label}.com")
}

/// The one field a validation ErrorResponse names.
#[track_caller]
fn refused(r: crate::common::Resp) -> String {
    let body = r.expect_error(400);
    assert_eq!(body["type"], "validation_error", "{body}");
    let names = field_names(body);
    assert_eq!(names.len(), 1, "one field named: {body}");
    names[0].clone()
}

fn user_count(app: &TestApp) -> u64 {
    app.get("/v3/users").expect(200)["total_count"]
        .as_u64()
        .unwrap()
}

/// Every route that takes an email address, with the field holding it.
fn email_cases(
    app: &TestApp,
    me: &str,
    tenant: &str,
    bad: &str,
) -> Vec<(Client, &'static str, String, Value, &'static str)> {
    let c = || app.client.clone();
    vec![
        (
            c(),
            "POST",
            "/v3/users".into(),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "POST",
            "/v3/users?action=invite".into(),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "POST",
            "/v3/user-invitations".into(),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "PUT",
            "/v3/users/me".into(),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "PUT",
            format!("/v3/users/{me}"),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "POST",
            "/v3/accounts".into(),
            tenant_body(json!({"admin_email": bad})),
            "admin_email",
        ),
        (
            c(),
            "POST",
            "/v3/accounts".into(),
            tenant_body(json!({"email": bad})),
            "email",
        ),
        (
            c(),
            "PUT",
            "/v3/accounts/me".into(),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "PUT",
            "/v3/accounts/me".into(),
            json!({"notification_emails": [bad]}),
            "notification_emails",
        ),
        (
            c(),
            "PUT",
            format!("/v3/accounts/{tenant}"),
            json!({"email": bad}),
            "email",
        ),
        (
            c(),
            "PUT",
            format!("/v3/accounts/{tenant}"),
            json!({"sales_contact": bad}),
            "sales_contact",
        ),
    ]
}

#[test]
fn an_email_is_one_address_on_every_route_that_takes_one() {
    let app = spawn_app();
    let me = id_of(app.get("/v3/users/me").expect(200));
    let tenant = id_of(
        app.post("/v3/accounts", &tenant_body(json!({})))
            .expect(201),
    );
    let users = user_count(&app);
    let own_email = app.get("/v3/users/me").expect(200)["email"].clone();
    let mut bad: Vec<String> = BAD_EMAILS.iter().map(|s| s.to_string()).collect();
    bad.push(long_local());
    bad.push(long_domain());
    for address in &bad {
        for (client, method, path, body, field) in email_cases(&app, &me, &tenant, address) {
            let r = client.raw(
                method,
                &path,
                Some(("application/json", body.to_string().as_bytes())),
                &[],
            );
            assert_eq!(
                r.status, 400,
                "{method} {path} accepted {address:?}: {}",
                r.text
            );
            assert_eq!(refused(r), field, "{method} {path} {address:?}");
        }
    }
    // Nothing was created, changed or sent.
    assert_eq!(user_count(&app), users);
    assert_eq!(app.get("/v3/users/me").expect(200)["email"], own_email);
    assert_eq!(
        app.get("/v3/user-invitations").expect(200)["total_count"],
        0
    );
    assert!(outbox(&app).is_empty(), "{:?}", outbox(&app));
    // Ordinary addresses still work, international ones and domain literals included.
    for good in [
        "first.last+tag@example.co.uk",
        "o'brien@example.com",
        "jörg@bücher.example",
        "ops@[192.0.2.1]",
        "a@b",
    ] {
        app.post(
            "/v3/users",
            &json!({"email": good, "password": "a long enough password"}),
        )
        .expect(201);
    }
}

#[test]
fn the_email_of_a_user_create_has_exactly_one_recipient() {
    let app = spawn_app();
    // The injection attempt is refused (or at least never mailed to two recipients)...
    let _ = app.post("/v3/users", &json!({"email": BAD_EMAILS[0]}));
    // ...and an ordinary create mails exactly its user.
    let email = format!("{}@example.com", unique("one"));
    let created = app
        .post("/v3/users", &json!({"email": email}))
        .expect(201)
        .clone();
    assert!(
        created["password"].is_string(),
        "a generated password: {created}"
    );
    let files = outbox(&app);
    for (_, eml) in &files {
        assert_eq!(recipients(eml), vec![format!("<{email}>")], "{eml}");
    }
    assert_eq!(files.len(), 1, "{files:?}");
}

/// The values of the recipient headers of a message (To, Cc, Bcc and their Resent- forms),
/// refusing any that names more than one address.
fn recipients(eml: &str) -> Vec<String> {
    let (head, _) = eml.split_once("\r\n\r\n").expect("a header block");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let mut found = Vec::new();
    for line in unfolded.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header: {line:?}"));
        let name = name.to_ascii_lowercase();
        let name = name.trim_start_matches("resent-");
        if ["to", "cc", "bcc"].contains(&name) {
            let value = value.trim().to_string();
            assert_eq!(value.matches('@').count(), 1, "{line}");
            assert!(!value.contains(','), "{line}");
            found.push(value);
        }
    }
    found
}

/// Names that hold a control, bidi or line-separator character.
const BAD_NAMES: &[&str] = &[
    "Acme\r\nTo: attacker@evil.example",
    "tab\there",
    "nul\u{0}byte",
    "del\u{7f}",
    "c1\u{85}next-line",
    "evil\u{202e}gnp.exe",
    "isolate\u{2066}x\u{2069}",
    "line\u{2028}separator",
];

#[test]
fn control_characters_in_names_are_400_naming_the_field() {
    let app = spawn_app();
    let me = id_of(app.get("/v3/users/me").expect(200));
    let tenant = id_of(
        app.post("/v3/accounts", &tenant_body(json!({})))
            .expect(201),
    );
    let idp = |name: &str| json!({"name": name, "type": "SAML2"});
    let cert = iamd::pki::testcerts::self_signed("trusted");
    for bad in BAD_NAMES {
        let email = format!("{}@example.com", unique("n"));
        let cases: Vec<(&str, String, Value, &str)> = vec![
            (
                "POST",
                "/v3/users".into(),
                json!({"email": email, "full_name": bad}),
                "full_name",
            ),
            (
                "POST",
                "/v3/users".into(),
                json!({"email": email, "username": bad}),
                "username",
            ),
            (
                "PUT",
                "/v3/users/me".into(),
                json!({"full_name": bad}),
                "full_name",
            ),
            (
                "PUT",
                format!("/v3/users/{me}"),
                json!({"full_name": bad}),
                "full_name",
            ),
            (
                "PUT",
                "/v3/accounts/me".into(),
                json!({"display_name": bad}),
                "display_name",
            ),
            (
                "PUT",
                "/v3/accounts/me".into(),
                json!({"company": bad}),
                "company",
            ),
            (
                "PUT",
                format!("/v3/accounts/{tenant}"),
                json!({"display_name": bad}),
                "display_name",
            ),
            (
                "POST",
                "/v3/accounts".into(),
                tenant_body(json!({"display_name": bad})),
                "display_name",
            ),
            (
                "POST",
                "/v3/accounts".into(),
                tenant_body(json!({"admin_full_name": bad})),
                "admin_full_name",
            ),
            (
                "POST",
                "/v3/policy-groups".into(),
                json!({"name": bad}),
                "name",
            ),
            ("POST", "/v3/api-keys".into(), json!({"name": bad}), "name"),
            ("POST", "/v3/identity-providers".into(), idp(bad), "name"),
            (
                "POST",
                "/v3/trusted-certificates".into(),
                json!({"name": bad, "certificate": cert, "service": "lwm2m"}),
                "name",
            ),
            (
                "POST",
                "/v3/developer-certificates".into(),
                json!({"name": bad}),
                "name",
            ),
        ];
        for (method, path, body, field) in cases {
            let r = app.raw(
                method,
                &path,
                Some(("application/json", body.to_string().as_bytes())),
                &[],
            );
            assert_eq!(
                r.status, 400,
                "{method} {path} accepted {bad:?}: {}",
                r.text
            );
            assert_eq!(refused(r), field, "{method} {path} {bad:?}");
        }
    }
    // Nothing of it was stored.
    let account = app.get("/v3/accounts/me").expect(200).clone();
    assert!(!account.to_string().contains("evil.example"), "{account}");
    assert_eq!(app.get("/v3/api-keys").expect(200)["total_count"], 1);
    // Any script is fine; only invisible formatting and control characters are refused.
    app.put(
        "/v3/accounts/me",
        &json!({"display_name": "Zoë's Ünïcode 山田 — شركة"}),
    )
    .expect(200);
    app.put("/v3/users/me", &json!({"full_name": "Zoë 山田"}))
        .expect(200);
}

#[test]
fn custom_fields_are_bounded_on_users_and_accounts() {
    let app = spawn_app();
    let me = id_of(app.get("/v3/users/me").expect(200));
    let many: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let long_key = json!({ "k".repeat(101): "v" });
    let long_value = json!({"k": "v".repeat(1001)});
    let empty_key = json!({"": "v"});
    let bad_key = json!({"line\nbreak": "v"});
    for path in [
        "/v3/users/me".to_string(),
        format!("/v3/users/{me}"),
        "/v3/accounts/me".to_string(),
    ] {
        for bad in [
            Value::Object(many.clone()),
            long_key.clone(),
            long_value.clone(),
            empty_key.clone(),
            bad_key.clone(),
        ] {
            let r = app.put(&path, &json!({"custom_fields": bad}));
            assert_eq!(r.status, 400, "PUT {path} accepted {bad}: {}", r.text);
            assert_eq!(refused(r), "custom_fields", "PUT {path} {bad}");
        }
        // Within the bounds: stored as given.
        let ok: serde_json::Map<String, Value> = (0..10)
            .map(|i| (format!("{i}{}", "k".repeat(99)), json!("v".repeat(1000))))
            .collect();
        let r = app
            .put(&path, &json!({"custom_fields": ok}))
            .expect(200)
            .clone();
        assert_eq!(r["custom_fields"], Value::Object(ok), "{path}");
    }
}

/// Sends one request over a fresh connection with headers a client could forge; returns the
/// status and the JSON body.
fn forged(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: evil.example\r\n\
         X-Forwarded-Host: forged.example\r\nX-Forwarded-Proto: https\r\n\
         Forwarded: host=forwarded.example;proto=https\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.admin_key,
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let (status, text) = crate::operations::parse_response(&raw).expect("a response");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn links_use_the_bound_address_not_the_host_a_client_names() {
    let app = spawn_app();
    let (status, image) = forged(
        &app,
        "GET",
        "/v3/branding-images/light/brand_logo_square",
        None,
    );
    assert_eq!(status, 200, "{image}");
    let uri = image["static_uri"].as_str().unwrap();
    assert!(uri.starts_with(&format!("{}/static/", app.base)), "{uri}");
    let email = format!("{}@example.com", unique("inv"));
    let (status, inv) = forged(
        &app,
        "POST",
        "/v3/user-invitations",
        Some(&json!({"email": email})),
    );
    assert_eq!(status, 201, "{inv}");
    let eml = crate::users::email_to(&app, &email);
    let link = format!("{}/console/#/invitation?token=", app.base);
    assert!(eml.contains(&link), "no {link} in {eml}");
    for forged in [
        "evil.example",
        "forged.example",
        "forwarded.example",
        "https:",
    ] {
        assert!(
            !uri.contains(forged) && !eml.contains(forged),
            "{forged}: {uri} {eml}"
        );
    }
}
