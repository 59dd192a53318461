//! The open database behind every store.
//!
//! Flushes go through here ([`Trees::flush`]): each one first records a flush sequence
//! number in the database and, once sled has made it durable, in the data directory's marker
//! file, so that a start can tell a log that lost acknowledged writes (see `integrity`).

use super::integrity::{self, Marker};
use super::{StoreError, StoreResult, TreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A handle to the open database (cheap to clone; every store holds one).
#[derive(Clone)]
pub struct Trees {
    live: Arc<Live>,
}

/// One opening of the database.
pub struct Open {
    pub db: sled::Db,
    trees: TreeSet,
}

impl std::ops::Deref for Open {
    type Target = TreeSet;
    fn deref(&self) -> &TreeSet {
        &self.trees
    }
}

struct Live {
    dir: PathBuf,
    current: Arc<Open>,
    /// Serialises flushes.
    flush: Mutex<FlushState>,
}

struct FlushState {
    /// The last flush sequence number written to the database.
    seq: u64,
    /// Set once the data directory is initialised (see `integrity`).
    marker: Option<Marker>,
}

impl Trees {
    pub(super) fn new(dir: &Path, db: sled::Db, trees: TreeSet, marker: Option<Marker>) -> Trees {
        let seq = integrity::flush_seq(&trees).unwrap_or(0);
        Trees {
            live: Arc::new(Live {
                dir: dir.to_path_buf(),
                current: Arc::new(Open { db, trees }),
                flush: Mutex::new(FlushState { seq, marker }),
            }),
        }
    }

    /// The open database.
    pub fn get(&self) -> StoreResult<Arc<Open>> {
        Ok(self.live.current.clone())
    }

    /// Makes everything written so far durable and records the flush (see the module doc).
    pub fn flush(&self) -> StoreResult<()> {
        let open = self.get()?;
        let mut state = self.live.flush.lock().unwrap_or_else(|p| p.into_inner());
        let seq = state.seq + 1;
        let flushed = integrity::record_flush_seq(&open, seq).and_then(|()| open.db.flush());
        flushed?;
        state.seq = seq;
        if let Some(marker) = state.marker.as_mut() {
            marker.record(seq).map_err(|e| {
                StoreError::Backend(format!("cannot record the flush in the marker: {e}"))
            })?;
        }
        Ok(())
    }

    /// Writes the marker that says this data directory is initialised (see `integrity`),
    /// once: after the first start's bootstrap, after a restore, or at the first start of a
    /// release that has markers on a directory made before.
    pub fn mark_initialised(&self) -> StoreResult<()> {
        self.flush()?;
        let mut state = self.live.flush.lock().unwrap_or_else(|p| p.into_inner());
        if state.marker.is_none() {
            state.marker = Some(Marker::create(&self.live.dir, state.seq)?);
        }
        Ok(())
    }
}
