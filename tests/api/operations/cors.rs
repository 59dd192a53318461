//! CORS: off by default; `[http] cors_origins` lets a page on a listed origin call the API
//! from a browser with a bearer token (preflight answered, no credentials mode).

use super::run;
use crate::common::{assert_error_body, spawn_app, spawn_app_with, Resp};
use serde_json::json;

const ORIGIN: &str = "http://app.example.com:3000";

fn preflight(app: &crate::common::Client, origin: &str, method: &str) -> Resp {
    app.anonymous().raw(
        "OPTIONS",
        "/v3/users",
        None,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
    )
}

/// A header's comma-separated values, lowercased.
fn listed(resp: &Resp, name: &str) -> Vec<String> {
    resp.header(name)
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

#[test]
fn a_listed_origin_may_call_the_api_with_a_bearer_token() {
    let app = spawn_app_with(|c| {
        c.http.cors_origins = vec![ORIGIN.into(), "https://other.example.com".into()]
    });
    let pre = preflight(&app, ORIGIN, "POST");
    assert_eq!(pre.status, 200, "{}", pre.text);
    assert_eq!(pre.header("access-control-allow-origin"), Some(ORIGIN));
    let methods = listed(&pre, "access-control-allow-methods");
    for m in ["get", "post", "put", "delete"] {
        assert!(methods.contains(&m.to_string()), "{methods:?}");
    }
    let headers = listed(&pre, "access-control-allow-headers");
    assert!(
        headers.contains(&"authorization".into()) && headers.contains(&"content-type".into()),
        "{headers:?}"
    );
    assert_eq!(
        pre.header("access-control-allow-credentials"),
        None,
        "no credentials mode"
    );

    // The request itself: answered, with the origin allowed and the request id readable.
    let origin = [("Origin", ORIGIN)];
    let created = app.raw(
        "POST",
        "/v3/policy-groups",
        Some((
            "application/json",
            json!({"name": "from a browser"}).to_string().as_bytes(),
        )),
        &origin,
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(
        listed(&created, "access-control-expose-headers").contains(&"x-request-id".into()),
        "{:?}",
        created.headers
    );
    assert_eq!(created.header("access-control-allow-credentials"), None);
    // A refusal carries the headers too, so the page can read the ErrorResponse.
    let refused = app.anonymous().raw("GET", "/v3/users", None, &origin);
    assert_error_body(&refused.body, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some(ORIGIN));

    // Another origin: no CORS headers, so the browser keeps the answer from the page.
    let pre = preflight(&app, "https://evil.example.com", "GET");
    assert_eq!(pre.header("access-control-allow-origin"), None);
    assert!(pre.status >= 400, "{}", pre.status);
    assert_error_body(&pre.body, pre.status);
    let other = app.raw(
        "GET",
        "/v3/users/me",
        None,
        &[("Origin", "https://evil.example.com")],
    );
    assert_eq!(other.status, 200, "served as without CORS: {}", other.text);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn cors_is_off_by_default_and_origins_are_checked() {
    let app = spawn_app();
    let pre = preflight(&app, ORIGIN, "GET");
    assert_eq!(pre.header("access-control-allow-origin"), None);
    assert_error_body(&pre.body, pre.status);
    let get = app.raw("GET", "/v3/users/me", None, &[("Origin", ORIGIN)]);
    assert_eq!(get.status, 200);
    assert_eq!(get.header("access-control-allow-origin"), None);

    let (code, _, err) = run(
        &["check-config"],
        &[(
            "IAMD_HTTP_CORS_ORIGINS",
            "https://ok.example.com, app.example.com/",
        )],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("http.cors_origins") && err.contains("`app.example.com/`"),
        "{err}"
    );
    let (code, out, err) = run(
        &["check-config"],
        &[(
            "IAMD_HTTP_CORS_ORIGINS",
            "https://ok.example.com,http://localhost:3000",
        )],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "cors_origins = [\n    \"https://ok.example.com\",\n    \"http://localhost:3000\",\n]"
        ),
        "{out}"
    );
}
