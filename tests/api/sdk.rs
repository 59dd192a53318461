//! The official Python SDK (mbed-cloud-sdk 2.2.0) against the real binary. The scenarios
//! live in tests/sdk/; `tests/sdk/run.sh` makes its own venv (target/sdk-venv).

use crate::common::{run_script, Binary};

/// Runs the SDK scenarios of `areas` against a fresh server; panics with their output on
/// failure.
pub fn run_sdk(areas: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
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
