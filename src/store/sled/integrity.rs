//! What keeps a damaged database from passing for a good one.
//!
//! - The marker `<data_dir>/iamd-initialised` is written, durably, once the directory holds
//!   a root account: after the first start's bootstrap, by `restore`, and at the first start
//!   of this release on a directory made before. Next to it, a missing or empty database is
//!   damage, never a first start: no new root account, no new admin key file.
//! - Every group flush writes a flush sequence number into the database (`meta` tree) and,
//!   once sled has made it durable, into the marker, before any write it covers is
//!   acknowledged (see `live`). sled's recovery stops at the first unreadable entry of its log
//!   and silently drops everything after it; a start that finds the database's number below
//!   the marker's knows that acknowledged writes were cut away.
//! - Every record is read and decoded at start, and the counters are compared with the
//!   records (see `verify`), for damage inside what sled's recovery took for intact.
//!
//! Whatever is found, or a panic of sled's recovery, is `StoreError::Damaged`.

use super::{migrations, TreeSet};
use crate::store::{StoreError, StoreResult};
use std::cell::Cell;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub const MARKER: &str = "iamd-initialised";
const FLUSH_SEQ: &[u8] = b"flush_seq";
const ROOT_KEY: &[u8] = b"root_account";

const HEADER: &str = "iamd data directory: initialised.\n\
Keep this file: without it, a missing or emptied database would be taken for a first start.\n";
/// `flush <20 digits> <8 hex digits of a checksum>\n`
const SLOT_LEN: usize = 36;

/// The marker file, open for recording flushes. Two slots, written alternately, so that a
/// write torn by a power cut leaves the other, previous, number readable.
pub struct Marker {
    file: std::fs::File,
    acknowledged: u64,
}

impl Marker {
    /// The marker of `dir`, if the directory was ever initialised.
    pub fn read(dir: &Path) -> StoreResult<Option<Marker>> {
        let path = dir.join(MARKER);
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(damaged(&path, format!("cannot be opened: {e}"))),
        };
        let text = std::fs::read(&path).map_err(|e| damaged(&path, e.to_string()))?;
        let acknowledged = parse(&text).ok_or_else(|| {
            damaged(
                &path,
                "is unreadable (it says how much the database held)".into(),
            )
        })?;
        Ok(Some(Marker { file, acknowledged }))
    }

    /// Writes the marker of `dir` (temporary file, sync, rename, sync of the directory).
    pub fn create(dir: &Path, acknowledged: u64) -> StoreResult<Marker> {
        let path = dir.join(MARKER);
        let fail = |e: std::io::Error| StoreError::Backend(format!("{}: {e}", path.display()));
        let tmp = dir.join(format!("{MARKER}.tmp"));
        let mut text = HEADER.as_bytes().to_vec();
        text.extend_from_slice(&slot(acknowledged));
        text.extend_from_slice(&slot(acknowledged));
        let mut file = crate::private::create_file(&tmp).map_err(fail)?;
        file.write_all(&text).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(fail)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(fail)?;
        Ok(Marker { file, acknowledged })
    }

    /// The last flush the marker records.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged
    }

    /// Records flush `seq` (durable when this returns): one small write and a data sync.
    pub fn record(&mut self, seq: u64) -> std::io::Result<()> {
        let offset = HEADER.len() + (seq % 2) as usize * SLOT_LEN;
        self.file.write_all_at(&slot(seq), offset as u64)?;
        self.file.sync_data()?;
        self.acknowledged = seq;
        Ok(())
    }
}

fn slot(seq: u64) -> Vec<u8> {
    let digits = format!("{seq:020}");
    format!("flush {digits} {:08x}\n", checksum(digits.as_bytes())).into_bytes()
}

fn checksum(bytes: &[u8]) -> u32 {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    u32::from_be_bytes(d.as_ref()[..4].try_into().unwrap_or_default())
}

/// The highest intact slot.
fn parse(text: &[u8]) -> Option<u64> {
    let slots = text.strip_prefix(HEADER.as_bytes())?;
    slots
        .chunks(SLOT_LEN)
        .filter_map(|s| {
            let s = std::str::from_utf8(s).ok()?.strip_prefix("flush ")?;
            let (digits, sum) = s.trim_end().split_once(' ')?;
            let ok = u32::from_str_radix(sum, 16).ok()? == checksum(digits.as_bytes());
            ok.then(|| digits.parse().ok()).flatten()
        })
        .max()
}

pub fn damaged(path: &Path, detail: String) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        detail,
    }
}

/// The flush sequence number the database holds.
pub fn flush_seq(trees: &TreeSet) -> StoreResult<u64> {
    Ok(trees
        .meta
        .get(FLUSH_SEQ)?
        .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

pub fn record_flush_seq(trees: &TreeSet, seq: u64) -> ::sled::Result<()> {
    trees.meta.insert(FLUSH_SEQ, &seq.to_be_bytes()).map(|_| ())
}

/// Opens the database under `dir` and checks it: it must be there when the marker says
/// the directory was initialised (`acknowledged` is the marker's last flush), and must hold
/// every flush acknowledged and a root account. Whether every record reads is checked after
/// the start, in the background (`sled::open`).
pub fn open_checked(dir: &Path, acknowledged: Option<u64>) -> StoreResult<(::sled::Db, TreeSet)> {
    let db_dir = dir.join("db");
    let log = db_dir.join("db");
    if acknowledged.is_some() {
        if !db_dir.is_dir() {
            return Err(damaged(&db_dir, missing_database()));
        }
        for file in [db_dir.join("conf"), log.clone()] {
            if std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) == 0 {
                return Err(damaged(&file, missing_database()));
            }
        }
    }
    catch_panic(&log, || {
        let db = super::sled_config(dir)
            .open()
            .map_err(|e| open_error(e, &log))?;
        let trees = TreeSet::open(&db).map_err(|e| open_error(e, &log))?;
        migrations::run(&db, &trees).map_err(|e| as_damage(e, &log))?;
        if let Some(acknowledged) = acknowledged {
            let seq = flush_seq(&trees).map_err(|e| as_damage(e, &log))?;
            if seq < acknowledged {
                return Err(damaged(
                    &log,
                    format!(
                        "it ends before the last write it acknowledged (flush {seq} of \
                         {acknowledged}): part of its log was damaged and cut away"
                    ),
                ));
            }
            if trees
                .meta
                .get(ROOT_KEY)
                .map_err(|e| open_error(e, &log))?
                .is_none()
            {
                return Err(damaged(&log, "it holds no root account".into()));
            }
        }
        Ok((db, trees))
    })
}

fn missing_database() -> String {
    format!("it is missing or empty, but {MARKER} says this directory was initialised")
}

fn open_error(e: ::sled::Error, log: &Path) -> StoreError {
    use std::io::ErrorKind;
    match e {
        // Another process holds the database: not damage (sled says so only in the text).
        ::sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Backend(format!(
                "{} is in use by another process: {e}",
                log.display()
            ))
        }
        // The disk or the permissions, not the data.
        ::sled::Error::Io(ref io)
            if matches!(
                io.kind(),
                ErrorKind::StorageFull
                    | ErrorKind::PermissionDenied
                    | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            StoreError::Backend(format!("cannot open {}: {e}", log.display()))
        }
        other => damaged(log, other.to_string()),
    }
}

fn as_damage(e: StoreError, log: &Path) -> StoreError {
    match e {
        StoreError::Damaged { .. } => e,
        other => damaged(log, other.to_string()),
    }
}

thread_local! {
    /// Set while this thread runs `catch_panic`: its panics are reported as damage only.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, turning a panic (sled's recovery panics on some damage) into `Damaged`. The
/// panic prints nothing: the error says it all.
pub fn catch_panic<T>(log: &Path, f: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info)
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(damaged(log, format!("reading it failed ({what})")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_keeps_the_highest_intact_slot() {
        let dir = tempfile::tempdir().unwrap();
        let mut marker = Marker::create(dir.path(), 7).unwrap();
        marker.record(8).unwrap();
        marker.record(9).unwrap();
        assert_eq!(Marker::read(dir.path()).unwrap().unwrap().acknowledged(), 9);
        // A torn write of slot 1 (flush 9): the other slot still says 8.
        let path = dir.path().join(MARKER);
        let mut text = std::fs::read(&path).unwrap();
        let at = HEADER.len() + SLOT_LEN + 10;
        text[at] ^= 1;
        std::fs::write(&path, &text).unwrap();
        assert_eq!(Marker::read(dir.path()).unwrap().unwrap().acknowledged(), 8);
        std::fs::write(&path, "something else").unwrap();
        assert!(matches!(
            Marker::read(dir.path()),
            Err(StoreError::Damaged { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(Marker::read(dir.path()).unwrap().is_none());
    }
}
