//! `iamd verify`.

use super::{fail, FAILED};
use std::path::Path;
use std::process::ExitCode;

/// Checks a stopped server's data directory (see `iamd::store::verify_data_dir`); prints a summary.
pub fn verify(dir: &Path) -> ExitCode {
    let report = match iamd::store::verify_data_dir(dir) {
        Ok(r) => r,
        Err(e @ iamd::store::StoreError::Damaged { .. }) => {
            println!("{e}");
            println!("1 problem found");
            return ExitCode::from(FAILED);
        }
        Err(e) => return fail(FAILED, &e.to_string()),
    };
    println!(
        "verified {}: {} trees, {} entries",
        dir.display(),
        report.trees,
        report.entries
    );
    let records: Vec<String> = report
        .records
        .iter()
        .map(|(entity, n)| format!("{entity}: {n}"))
        .collect();
    println!("records: {}", records.join(", "));
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    if report.problem_count == 0 {
        println!("no problems found");
        ExitCode::SUCCESS
    } else {
        println!("{} problems found", report.problem_count);
        ExitCode::from(FAILED)
    }
}
