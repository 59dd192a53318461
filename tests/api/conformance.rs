//! Spec conformance: schemathesis (tests/conformance/run.sh) generates valid and invalid
//! requests for every operation of ../shared/spec/iam-openapi.yaml against the real binary
//! and checks status codes, content types and response schemas. Bounded here
//! (CONFORMANCE_EXAMPLES cases per operation, 10 by default); README § Proof has the long
//! run.

use crate::common::Binary;
use std::process::Command;

#[test]
fn every_operation_conforms_to_the_spec() {
    let root = env!("CARGO_MANIFEST_DIR");
    let spec = std::path::Path::new(root).join("../shared/spec/iam-openapi.yaml");
    if !spec.exists() {
        eprintln!("skipped: {} is not beside the repository", spec.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    let examples = std::env::var("CONFORMANCE_EXAMPLES").unwrap_or_else(|_| "10".into());
    let out = Command::new("bash")
        .arg(format!("{root}/tests/conformance/run.sh"))
        .current_dir(root)
        .env("IAMD_URL", &server.client.base)
        .env("IAMD_API_KEY", server.client.key.as_deref().unwrap())
        .env("CONFORMANCE_EXAMPLES", examples)
        .env("CONFORMANCE_BUDGET", "1200")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found non-conforming responses\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.contains("146 passed"),
        "not every operation ran:\n{stdout}"
    );
}
