//! The engines every engine-neutral test runs on: those of the conformance suite's
//! `each_engine` (sled, memory, and PostgreSQL when `IAMD_TEST_PG_URL` is set), as bare
//! engines. Tests take them with `for (engine, _keep) in test_engines()`.

use super::Engine;
use std::sync::Arc;

/// What must outlive an engine under test (its store, sled's directory, PostgreSQL's
/// schema); dropped after the test.
pub type Keep = Box<dyn std::any::Any>;

/// Each engine under test, fresh and empty.
pub fn test_engines() -> Vec<(Arc<dyn Engine>, Keep)> {
    crate::store::conformance::each_engine()
        .into_iter()
        .map(|subject| (subject.store.engine(), Box::new(subject) as Keep))
        .collect()
}
