//! The request log: who asked what and why a request was refused, as text or as JSON
//! (`[log] format = "json"`), never with the query string.

use super::run;
use crate::common::Binary;
use serde_json::{json, Value};
use std::time::Duration;

/// The JSON request lines logged so far for `request_id`, waiting for it to appear.
fn request_line(server: &Binary, request_id: &str) -> Value {
    assert!(
        server.wait_log(request_id, Duration::from_secs(5)),
        "{request_id} not logged: {}",
        server.log()
    );
    server
        .log()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .find(|v| v["request_id"] == request_id)
        .unwrap()
}

#[test]
fn json_lines_name_the_client_the_caller_and_the_reason_of_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &[("IAMD_LOG_FORMAT", "json"), ("IAMD_LOG_FROMAT", "text")],
    );
    let admin = &server.client;
    let me = admin.get("/v3/api-keys/me").expect(200).clone();
    let bad = admin.get("/v3/users?limit=nope&secret_in_query=hunter2");
    let body = bad.expect_error(400).clone();
    let line = request_line(&server, body["request_id"].as_str().unwrap());
    assert_eq!(line["type"], "request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/v3/users", "no query string");
    assert_eq!(line["status"], 400);
    assert_eq!(line["client"], "127.0.0.1");
    assert_eq!(line["account_id"], me["account_id"]);
    assert_eq!(line["api_key_id"], me["id"]);
    assert_eq!(line["user_id"], me["owner"]);
    assert_eq!(line["reason"], body["message"], "{line}");
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");

    let anonymous = admin.anonymous().get("/v3/users");
    let body = anonymous.expect_error(401).clone();
    let line = request_line(&server, body["request_id"].as_str().unwrap());
    assert_eq!(line["reason"], body["message"]);
    assert_eq!(line["account_id"], Value::Null);
    assert_eq!(line["client"], "127.0.0.1");

    let created = admin.post("/v3/policy-groups", &json!({"name": "logged"}));
    created.expect(201);
    let id = created.header("x-request-id").unwrap().to_string();
    let line = request_line(&server, &id);
    assert_eq!(
        (line["method"].as_str(), line["status"].as_u64()),
        (Some("POST"), Some(201))
    );
    assert_eq!(line["reason"], Value::Null, "a success has no reason");

    let log = server.log();
    assert!(!log.contains("hunter2"), "the query string is never logged");
    let warning = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("IAMD_LOG_FROMAT"))
        })
        .expect("the unknown variable is warned about, in JSON");
    assert_eq!(warning["level"], "WARN");
    assert!(warning["message"]
        .as_str()
        .unwrap()
        .contains("did you mean IAMD_LOG_FORMAT?"));
    for l in log.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["time"].is_string() && v["level"].is_string(), "{l}");
    }
}

#[test]
fn text_lines_carry_the_same_fields_and_a_bad_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    let me = server.client.get("/v3/api-keys/me").expect(200).clone();
    let body = server
        .client
        .get("/v3/users/nope")
        .expect_error(404)
        .clone();
    let id = body["request_id"].as_str().unwrap();
    assert!(server.wait_log(id, Duration::from_secs(5)));
    let log = server.log();
    let line = log.lines().find(|l| l.contains(id)).unwrap();
    assert!(line.contains("GET /v3/users/nope 404 "), "{line}");
    for field in [
        "client=127.0.0.1".to_string(),
        format!("account={}", me["account_id"].as_str().unwrap()),
        format!("key={}", me["id"].as_str().unwrap()),
        format!("user={}", me["owner"].as_str().unwrap()),
        format!("reason={:?}", body["message"].as_str().unwrap()),
    ] {
        assert!(line.contains(&field), "{field} in {line}");
    }

    let (code, _, err) = run(&["check-config"], &[("IAMD_LOG_FORMAT", "xml")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("IAMD_LOG_FORMAT") && err.contains("xml"),
        "{err}"
    );
    let (code, out, _) = run(&["check-config"], &[("IAMD_LOG_FORMAT", "json")]);
    assert_eq!(code, 0);
    assert!(out.contains("[log]\nformat = \"json\""), "{out}");
}
