//! The open database behind every store, taken out of service and reopened when the disk
//! fails a write.
//!
//! sled poisons itself after an IO error: once a write of its log fails (a full disk, a
//! failing device), every later write and flush fails with that error, and what it holds in
//! memory includes writes that never reached the disk. Serving from it would show those
//! writes (a retried create would get a 409) until a restart made them vanish. So the first
//! failed flush takes the database out of service at once: store calls answer
//! [`StoreError::Unavailable`] (503) while a background thread reopens it from the disk, which
//! holds exactly what was flushed, and then they go on without a restart.
//!
//! A full disk normally never gets that far: while the data directory's file system has less
//! than the configured free space, writes are refused before they reach sled (see
//! [`Trees::writable`]).
//!
//! Flushes go through here too ([`Trees::flush`]): each one first records a flush sequence
//! number in the database and, once sled has made it durable, in the data directory's marker
//! file, so that a start can tell a log that lost acknowledged writes (see `integrity`).

use super::integrity::{self, Marker};
use super::TreeSet;
use crate::store::{StoreError, StoreResult};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A handle to the open database (cheap to clone; every store holds one).
#[derive(Clone)]
pub struct Trees {
    live: Arc<Live>,
}

/// One opening of the database.
pub struct Open {
    pub db: ::sled::Db,
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
    /// `None` while the database is out of service.
    current: RwLock<Option<Arc<Open>>>,
    /// Why the database is out of service.
    broken: Mutex<Option<String>>,
    /// What clients are told when the scan after the start found damage (then the database
    /// stays out of service: reopening would find the same).
    damaged: Mutex<Option<String>>,
    /// Serialises flushes.
    flush: Mutex<FlushState>,
    /// Transactions begun and ended, so that the scan after a start can count records at a
    /// moment no transaction runs (see `verify::check_live`).
    begun: AtomicU64,
    ended: AtomicU64,
    /// Reopenings after a write failure.
    reopened: AtomicU64,
}

/// A transaction running: ended when dropped.
pub struct Writing<'a>(&'a Live);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.ended.fetch_add(1, Ordering::SeqCst);
    }
}

struct FlushState {
    /// The last flush sequence number written to the database.
    seq: u64,
    /// Set once the data directory is initialised (see `integrity`).
    marker: Option<Marker>,
}

/// The answer to every request while the database is out of service.
const REOPENING: &str = "The server could not write to its disk and is reopening its \
                         database; try again shortly.";

impl Trees {
    pub(super) fn new(dir: &Path, db: ::sled::Db, trees: TreeSet, marker: Option<Marker>) -> Trees {
        let seq = integrity::flush_seq(&trees).unwrap_or(0);
        Trees {
            live: Arc::new(Live {
                dir: dir.to_path_buf(),
                current: RwLock::new(Some(Arc::new(Open { db, trees }))),
                broken: Mutex::new(None),
                damaged: Mutex::new(None),
                flush: Mutex::new(FlushState { seq, marker }),
                begun: AtomicU64::new(0),
                ended: AtomicU64::new(0),
                reopened: AtomicU64::new(0),
            }),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.live.dir
    }

    /// Notes a transaction beginning; it ends when the result is dropped.
    pub fn writing(&self) -> Writing<'_> {
        self.live.begun.fetch_add(1, Ordering::SeqCst);
        Writing(&self.live)
    }

    /// (transactions begun, transactions ended) so far.
    pub fn writes(&self) -> (u64, u64) {
        // `ended` first: read the other way, a transaction could end between the two reads
        // and look as if it had never begun.
        let ended = self.live.ended.load(Ordering::SeqCst);
        (self.live.begun.load(Ordering::SeqCst), ended)
    }

    /// Changes whenever a transaction ends or the database is reopened (see
    /// `Engine::generation`).
    pub fn generation(&self) -> u64 {
        let reopened = self.live.reopened.load(Ordering::SeqCst);
        self.live.ended.load(Ordering::SeqCst) + reopened
    }

    /// The open database, or `Unavailable` while it is being reopened (or found damaged).
    pub fn get(&self) -> StoreResult<Arc<Open>> {
        let current = self
            .live
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        current.ok_or_else(|| {
            let damaged = self.live.damaged.lock().unwrap_or_else(|p| p.into_inner());
            StoreError::Unavailable(damaged.clone().unwrap_or_else(|| REOPENING.into()))
        })
    }

    /// Takes the database out of service for good: the scan after the start found `damage`
    /// (a `StoreError::Damaged` text, which says how to restore). Requests are answered 503,
    /// `/health` says why; a restart refuses nothing that the scan would not find again.
    pub fn take_out_for_damage(&self, damage: String) {
        log::error!("{damage}");
        *self.live.damaged.lock().unwrap_or_else(|p| p.into_inner()) = Some(
            "The server found its data directory damaged and refuses requests until it is \
             restored from a backup."
                .into(),
        );
        *self.live.broken.lock().unwrap_or_else(|p| p.into_inner()) = Some(damage);
        let old = self
            .live
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(old);
    }

    /// Whether a write may start: the database is in service and the data directory's file
    /// system has at least `min_free` bytes available. The error says why not.
    pub fn writable(&self, min_free: u64) -> Result<(), String> {
        if let Some(why) = self
            .live
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(why);
        }
        if min_free == 0 {
            return Ok(());
        }
        match rustix::fs::statvfs(&self.live.dir) {
            Ok(fs) => {
                let free = fs.f_bavail.saturating_mul(fs.f_frsize);
                if free < min_free {
                    Err(format!(
                        "The disk holding the data directory has {free} bytes free, less than \
                         the {min_free} the server keeps in reserve; writes are refused until \
                         space is freed."
                    ))
                } else {
                    Ok(())
                }
            }
            // Unknowable: let the write try (a failure on the disk is handled anyway).
            Err(_) => Ok(()),
        }
    }

    /// Makes everything written so far durable and records the flush (see the module doc).
    /// A failure on the disk takes the database out of service and starts its reopening.
    pub fn flush(&self) -> StoreResult<()> {
        let open = self.get()?;
        let mut state = self.live.flush.lock().unwrap_or_else(|p| p.into_inner());
        let seq = state.seq + 1;
        let flushed = integrity::record_flush_seq(&open, seq).and_then(|()| open.db.flush());
        if let Err(e) = flushed {
            drop(open);
            drop(state);
            log::error!("writing to the database failed: {e}");
            self.take_out_of_service(format!(
                "The server could not write to its disk ({e}); it is reopening its database \
                 and refuses requests until it has (while the disk is full, that waits for \
                 free space)."
            ));
            return Err(StoreError::Unavailable(
                "The server could not write to its disk; the change was not saved.".into(),
            ));
        }
        state.seq = seq;
        if let Some(marker) = state.marker.as_mut() {
            marker.record(seq).map_err(|e| {
                StoreError::Unavailable(format!("cannot record the flush in the marker: {e}"))
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

    fn take_out_of_service(&self, why: String) {
        *self.live.broken.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        let old = self
            .live
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(old) = old else {
            return; // Already being reopened.
        };
        let live = self.live.clone();
        let spawned = std::thread::Builder::new()
            .name("iamd-reopen".into())
            .spawn(move || reopen(&live, old));
        if let Err(e) = spawned {
            log::error!("cannot start reopening the database: {e}");
        }
    }
}

/// Waits until nothing uses the failed opening, then opens the database again, retrying
/// until it succeeds.
fn reopen(live: &Live, old: Arc<Open>) {
    let mut old = Some(old);
    while let Some(o) = old.take() {
        match Arc::try_unwrap(o) {
            Ok(open) => drop(open),
            Err(o) => {
                old = Some(o);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let mut wait = Duration::from_millis(10);
    loop {
        let acknowledged = live
            .flush
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .marker
            .as_ref()
            .map(Marker::acknowledged);
        // The lock of the old opening goes with sled's last thread: retried like any failure.
        if live
            .damaged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return; // Found damaged meanwhile: it stays out of service.
        }
        match integrity::open_checked(&live.dir, acknowledged) {
            Ok((db, trees)) => {
                let seq = integrity::flush_seq(&trees).unwrap_or(0);
                live.flush.lock().unwrap_or_else(|p| p.into_inner()).seq = seq;
                // Before the reopened database serves: nothing read from the old one may
                // look current after.
                live.reopened.fetch_add(1, Ordering::SeqCst);
                *live.current.write().unwrap_or_else(|p| p.into_inner()) =
                    Some(Arc::new(Open { db, trees }));
                *live.broken.lock().unwrap_or_else(|p| p.into_inner()) = None;
                log::info!("reopened the database after a write failure");
                return;
            }
            Err(e) => {
                log::warn!("cannot reopen the database yet: {e}");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}
