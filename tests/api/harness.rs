//! The test harness's own promises: what the other tests rely on without checking.

use crate::common::{required_spec, spawn_app};

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
