//! Injected faults: `PUT/GET/DELETE /admin/faults` and `[dev] faults`.

use super::*;
use serde_json::json;

#[test]
fn an_injected_503_is_an_error_response_with_retry_after_until_cleared() {
    let app = seeded_app(true);
    let set = app
        .put(
            "/admin/faults",
            &json!({"faults": [{"path": "/v3/users", "method": "GET", "status": 503, "retry_after_secs": 7}]}),
        )
        .expect(200)
        .clone();
    assert_eq!(set["data"][0]["status"], 503);
    assert_eq!(set["data"][0]["share"], 1.0);
    let resp = app.get("/v3/users");
    let body = resp.expect_error(503);
    assert_eq!(body["type"], "service_unavailable");
    assert_eq!(resp.header("retry-after"), Some("7"));
    // Other methods and paths are served.
    app.post("/v3/users", &json!({"email": "n@example.com"}))
        .expect(201);
    app.get("/v3/policy-groups").expect(200);
    assert_eq!(
        app.get("/admin/faults").expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    app.delete("/admin/faults").expect(204);
    app.get("/v3/users").expect(200);
}

#[test]
fn a_429_carries_retry_after_and_a_500_says_nothing_more() {
    let app = seeded_app(true);
    app.put(
        "/admin/faults",
        &json!({"faults": [
            {"path": "/v3/api-keys", "status": 429, "retry_after_secs": 3},
            {"path": "/v3/policy-groups", "status": 500}
        ]}),
    )
    .expect(200);
    let resp = app.get("/v3/api-keys/me");
    assert_eq!(resp.expect_error(429)["type"], "too_many_requests");
    assert_eq!(resp.header("retry-after"), Some("3"));
    let body = app.get("/v3/policy-groups").expect_error(500).clone();
    assert_eq!(body["message"], "Internal server error.");
}

#[test]
fn a_share_hits_some_requests_and_latency_delays_them() {
    let app = seeded_app(true);
    app.put(
        "/admin/faults",
        &json!({"faults": [{"path": "/v3/users", "status": 503, "share": 0.5}]}),
    )
    .expect(200);
    let statuses: Vec<u16> = (0..60).map(|_| app.get("/v3/users").status).collect();
    let hit = statuses.iter().filter(|s| **s == 503).count();
    // Half of 60, by chance: outside 10..=50 once in billions of runs.
    assert!((10..=50).contains(&hit), "{hit} of 60 hit");
    assert!(statuses.iter().all(|s| *s == 503 || *s == 200));

    app.put(
        "/admin/faults",
        &json!({"faults": [{"path": "/v3/accounts/me", "latency_ms": 300}]}),
    )
    .expect(200);
    let started = std::time::Instant::now();
    app.get("/v3/accounts/me").expect(200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn bad_faults_are_refused_naming_the_field() {
    let app = seeded_app(true);
    app.put(
        "/admin/faults",
        &json!({"faults": [{"path": "/v3/users", "status": 418}]}),
    )
    .expect_field_error(400, "faults[0].status");
    app.put(
        "/admin/faults",
        &json!({"faults": [{"path": "v3", "status": 503}]}),
    )
    .expect_field_error(400, "faults[0].path");
    app.put(
        "/admin/faults",
        &json!({"faults": [{"path": "/v3", "status": 503, "share": 2}]}),
    )
    .expect_field_error(400, "faults[0].share");
    app.put("/admin/faults", &json!({"faults": [{"path": "/v3"}]}))
        .expect_field_error(400, "faults[0].status");
    // Nothing was set by the refused requests.
    assert_eq!(app.get("/admin/faults").expect(200)["data"], json!([]));
    // Not a root admin: refused; without dev mode: not there.
    app.with_key(ACME_KEY)
        .get("/admin/faults")
        .expect_error(403);
    seeded_app(false)
        .put("/admin/faults", &json!({"faults": []}))
        .expect_error(404);
}

#[test]
fn faults_from_the_configuration_and_the_request_log_marks_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("iamd.toml");
    std::fs::write(
        &config,
        "[dev]\nenabled = true\nfaults = [{ path = \"/v3/users\", method = \"GET\", status = 503 }]\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = crate::common::Binary::start(
        &data,
        &[
            ("IAMD_CONFIG", config.to_str().unwrap()),
            ("IAMD_LOG_FORMAT", "json"),
        ],
    );
    assert!(server.log().contains("dev mode is on"), "{}", server.log());
    server.client.get("/v3/users").expect_error(503);
    let marked = |log: &str| {
        log.lines().any(|l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| {
                v["type"] == "request"
                    && v["status"] == 503
                    && v["reason"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("injected fault"))
            })
        })
    };
    assert!(
        server.wait_log("injected fault", std::time::Duration::from_secs(5))
            && marked(&server.log()),
        "{}",
        server.log()
    );
    assert!(server.terminate().success());
}

/// The official Python SDK (tests/sdk/scenario_dev.py): an injected 503 is its error type,
/// and its calls work again once the faults are cleared.
#[test]
fn sdk_sees_an_injected_503_and_recovers_after_clearing() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::common::Binary::start(dir.path(), &[("IAMD_DEV_ENABLED", "true")]);
    let stdout = crate::common::run_script(
        "sdk/run.sh",
        &["dev"],
        &[
            ("IAMD_SDK_HOST", &server.client.base),
            ("IAMD_SDK_API_KEY", server.client.key.as_deref().unwrap()),
        ],
        "SDK dev scenarios failed",
    );
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    assert!(server.terminate().success());
}
