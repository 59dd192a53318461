//! README.md § Testing your client against iamd: its pytest fixture and Node example, run as
//! written (`tests/sdk/readme_examples.sh`) against this build's binary.

use crate::common::run_script;

#[test]
fn the_readme_pytest_fixture_and_node_example_run_as_written() {
    let out = run_script(
        "sdk/readme_examples.sh",
        &[],
        &[("IAMD_BIN", env!("CARGO_BIN_EXE_iamd"))],
        "the README's pytest fixture or Node example failed",
    );
    assert!(out.contains("3 passed"), "{out}");
    assert!(
        out.contains("node example: ran") || out.contains("NOTICE: node not found"),
        "{out}"
    );
}
