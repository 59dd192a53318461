//! Abuse limits: failed authentication per address, and each request limit's 4xx.

use super::parse_response;
use crate::common::{assert_error_body, spawn_app_with};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn failed_authentication_is_limited_per_address_and_valid_keys_are_not() {
    let app = spawn_app_with(|c| c.limits.auth_failures_per_minute = 3);
    let forged = format!("ak_{}", "A".repeat(app.admin_key.len() - 3));
    let bad = app.with_key(&forged);
    for _ in 0..3 {
        bad.get("/v3/users/me").expect_error(401);
        // Interleaved successes are neither counted nor slowed.
        let started = Instant::now();
        app.get("/v3/users/me").expect(200);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    let limited = bad.get("/v3/users/me");
    let body = limited.expect_error(429);
    assert_eq!(body["type"], "too_many_requests");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    app.with_key("not-even-a-key")
        .get("/v3/accounts/me")
        .expect_error(429);
    // A valid key from the same address still works; a missing one is plain 401.
    app.get("/v3/accounts/me").expect(200);
    app.anonymous().get("/v3/accounts/me").expect_error(401);
}

#[test]
fn each_request_limit_is_a_4xx_error_response() {
    let app = spawn_app_with(|c| {
        c.limits.max_query_bytes = 256;
        c.limits.max_header_bytes = 2048;
        c.max_json_body_bytes = 1024;
        c.timeouts.request_secs = 1;
        c.timeouts.client_request_secs = 1;
    });
    // Query string.
    let long = "a".repeat(300);
    let body = app
        .get(&format!("/v3/users?email__eq={long}"))
        .expect_error(414)
        .clone();
    assert!(body["message"].as_str().unwrap().contains("256"), "{body}");
    app.get(&format!("/v3/users?email__eq={}", &long[..200]))
        .expect(200);
    // Header size.
    let big = "b".repeat(2100);
    let r = app.raw("GET", "/v3/users/me", None, &[("X-Padding", &big)]);
    r.expect_error(431);
    app.raw("GET", "/v3/users/me", None, &[("X-Padding", &big[..1000])])
        .expect(200);
    // JSON body size.
    let name = "c".repeat(1100);
    app.post(
        "/v3/users",
        &json!({"email": "big@example.com", "full_name": name}),
    )
    .expect_error(413);
    let none = app
        .get("/v3/users?email__eq=big@example.com")
        .expect(200)
        .clone();
    assert_eq!(none["total_count"], 0, "a refused body changes nothing");

    let addr = app.base.trim_start_matches("http://").to_string();
    // A body that never finishes: 408 ErrorResponse after request_secs.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        slow,
        "POST /v3/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"email\":",
        app.admin_key
    )
    .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let _ = slow.read_to_end(&mut raw);
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, body) = parse_response(&raw).expect("an answer");
    assert_eq!(status, 408);
    assert_error_body(&serde_json::from_str(&body).unwrap(), 408);
    // A request head that never finishes: the connection is closed.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(5), "closed in time");
    // The server is fine afterwards.
    app.get("/v3/users/me").expect(200);
}
