//! The test harness's own promises: what the other tests rely on without checking.

use crate::common::{required_spec, spawn_app, TestApp};
use serde_json::json;

/// `TestApp::stop` returns only once the database is closed, so a test may open it (or
/// start a server on it) at once. Repeated because the race it rules out is narrow.
#[test]
fn a_stopped_app_has_closed_its_database() {
    for round in 0..20 {
        let app = spawn_app();
        app.get("/v3/users/me").expect(200);
        let data_dir = app.data_dir.clone();
        let dir = app.stop();
        if let Err(e) = iamd::store::Store::open(&data_dir) {
            panic!("round {round}: the database is still open after stop: {e}");
        }
        drop(dir);
    }
}

/// The spec-based tests fail, saying what is missing, rather than pass without the spec.
#[test]
#[should_panic(expected = "the spec-based tests need the API contract")]
fn a_missing_spec_fails_the_tests_that_need_it() {
    required_spec("/nowhere/spec/iam-openapi.yaml".into());
}

/// A 400 naming `name`, from a key rename to an empty name.
fn name_error(app: &TestApp) -> crate::common::Resp {
    app.put("/v3/api-keys/me", &json!({"name": ""}))
}

#[test]
fn the_field_error_check_passes_on_the_field_named() {
    let app = spawn_app();
    name_error(&app).expect_field_error(400, "name");
}

#[test]
#[should_panic(expected = "the fields named")]
fn the_field_error_check_fails_on_another_field() {
    let app = spawn_app();
    name_error(&app).expect_field_error(400, "status");
}

#[test]
#[should_panic(expected = "the fields named")]
fn the_field_error_check_fails_on_a_field_more() {
    let app = spawn_app();
    name_error(&app).expect_fields_error(400, &["name", "status"]);
}

#[test]
#[should_panic(expected = "validation_error")]
fn the_bad_request_check_fails_on_a_field_error() {
    let app = spawn_app();
    name_error(&app).expect_bad_request("Validation error.");
}
