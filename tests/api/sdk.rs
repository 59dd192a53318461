//! The official Python SDK (mbed-cloud-sdk 2.2.0) against the real binary. The scenarios
//! live in tests/sdk/; `tests/sdk/run.sh` makes its own venv (target/sdk-venv).

use crate::common::Binary;
use std::process::Command;

/// Runs the SDK scenarios of `areas` against a fresh server; panics with their output on
/// failure.
pub fn run_sdk(areas: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/tests/sdk/run.sh"))
        .args(areas)
        .current_dir(root)
        .env("IAMD_SDK_HOST", &server.client.base)
        .env("IAMD_SDK_API_KEY", server.client.key.as_deref().unwrap())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK scenarios {areas:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
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
