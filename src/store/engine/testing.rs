//! The engines every engine-neutral test runs on: sled, memory, and PostgreSQL when
//! `IAMD_TEST_PG_URL` is set (see `store::postgres::testing`). Stores test themselves with
//! `for (engine, _keep) in test_engines()`.

use super::{Engine, MemoryEngine};
use crate::store::Store;
use std::sync::Arc;

/// What must outlive an engine under test (sled's store and directory, PostgreSQL's
/// schema); dropped after the test.
pub type Keep = Box<dyn std::any::Any>;

/// Each engine under test, fresh and empty.
pub fn test_engines() -> Vec<(Arc<dyn Engine>, Keep)> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut engines: Vec<(Arc<dyn Engine>, Keep)> = vec![
        (Arc::new(store.sled_engine()), Box::new((store, dir))),
        (Arc::new(MemoryEngine::new()), Box::new(())),
    ];
    if let Some((engine, schema)) = crate::store::postgres::testing::engine() {
        engines.push((Arc::new(engine), Box::new(schema)));
    }
    engines
}
