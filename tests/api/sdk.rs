//! The official Python SDK (mbed-cloud-sdk 2.2.0) against the real binary. The scenarios
//! live in tests/sdk/; `tests/sdk/run.sh` makes its own venv (target/sdk-venv).

use crate::common::{run_script, Binary};

/// Runs the SDK scenarios of `areas` against a fresh server (on PostgreSQL under
/// `IAMD_TEST_STORE=postgres`); panics with their output on failure.
pub fn run_sdk(areas: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (schema, env) = crate::pg::Schema::for_suite();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Binary::start(dir.path(), &env);
    let stdout = run_script(
        "sdk/run.sh",
        areas,
        &[
            ("IAMD_SDK_HOST", &server.client.base),
            ("IAMD_SDK_API_KEY", server.client.key.as_deref().unwrap()),
        ],
        &format!("SDK scenarios {areas:?} failed"),
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    if let Some(schema) = schema {
        assert!(
            schema.rows("accountid_account") >= 1,
            "the server ran on PostgreSQL"
        );
    }
}

#[test]
fn sdk_account_scenarios() {
    run_sdk(&["account"]);
}

#[test]
fn sdk_iam_scenarios() {
    run_sdk(&["iam"]);
}

#[test]
fn sdk_tenants_scenarios() {
    run_sdk(&["tenants"]);
}

#[test]
fn sdk_certificates_scenarios() {
    run_sdk(&["certificates"]);
}

#[test]
fn sdk_branding_scenarios() {
    run_sdk(&["branding"]);
}

#[test]
fn sdk_signin_scenarios() {
    run_sdk(&["signin"]);
}
