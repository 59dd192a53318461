//! Spec conformance: schemathesis (tests/conformance/run.sh) generates valid and invalid
//! requests for every operation of ../shared/spec/iam-openapi.yaml against the real binary
//! and checks status codes, content types and response schemas (on PostgreSQL too under
//! `IAMD_TEST_STORE=postgres`). Bounded here
//! (CONFORMANCE_EXAMPLES cases per operation, 10 by default); README § Proof has the long
//! run.

use crate::common::{run_script, spec_path, Binary};

#[test]
fn every_operation_conforms_to_the_spec() {
    let spec = spec_path();
    let dir = tempfile::tempdir().unwrap();
    // On PostgreSQL under `IAMD_TEST_STORE=postgres`, as the rest of the suite.
    let (schema, env) = crate::pg::Schema::for_suite();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Binary::start(dir.path(), &env);
    let examples = std::env::var("CONFORMANCE_EXAMPLES").unwrap_or_else(|_| "10".into());
    let stdout = run_script(
        "conformance/run.sh",
        &[],
        &[
            ("IAMD_SPEC", spec.to_str().unwrap()),
            ("IAMD_URL", &server.client.base),
            ("IAMD_API_KEY", server.client.key.as_deref().unwrap()),
            ("CONFORMANCE_EXAMPLES", &examples),
            ("CONFORMANCE_BUDGET", "1200"),
        ],
        "schemathesis found non-conforming responses",
    );
    assert!(
        stdout.contains("147 passed"),
        "not every operation ran:\n{stdout}"
    );
    if let Some(schema) = schema {
        assert!(
            schema.rows("accountid_account") >= 1,
            "the server ran on PostgreSQL"
        );
    }
}
