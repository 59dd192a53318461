//! `iamd migrate-store`: moves a stopped server's database from one engine to another (a
//! data directory's sled and PostgreSQL, either way) through the logical backup: the source
//! is written to a backup file next to nothing else (mode 0600, in the temp directory),
//! verified, restored into the target, then removed. Everything goes through the engine
//! boundary, exactly as `backup` and `restore` do.
//!
//! The target must be empty (a new or empty directory, a database without a root account):
//! a migration never merges into or overwrites a store. The source is not changed; stop
//! every server on it first (a PostgreSQL source is read table by table, not as one
//! snapshot, so a node writing meanwhile would make an inconsistent copy).

use super::{restore_into, verify_file, write_file_atomically, write_snapshot};
use super::{BackupError, Summary};
use crate::store::{Location, Store};
use std::path::{Path, PathBuf};

/// One side of a migration: a data directory or a store URL.
fn is_url(side: &str) -> Result<bool, BackupError> {
    match Location::parse(side) {
        Ok(Location::Postgres) => Ok(true),
        Ok(_) => Ok(false),
        // Not a URL we know: a directory, unless it looks like a URL.
        Err(e) if side.contains("://") => Err(BackupError::Refused(e.to_string())),
        Err(_) => Ok(false),
    }
}

/// Opens a PostgreSQL store (no data directory of its own).
fn open_url(url: &str) -> Result<Store, BackupError> {
    Ok(Store::open_url(Path::new("."), url)?)
}

/// Copies the store `from` into the empty store `to`; the summary of what was copied.
pub fn migrate(from: &str, to: &str) -> Result<Summary, BackupError> {
    let (from_url, to_url) = (is_url(from)?, is_url(to)?);
    if from == to {
        return Err(BackupError::Refused(
            "--from and --to name the same store".into(),
        ));
    }
    // Refused before the copy: a full copy made for nothing is the slow part.
    if to_url {
        refuse_non_empty(&open_url(to)?, to)?;
    }
    let file = std::env::temp_dir().join(format!(
        "iamd-migrate-{}.backup",
        crate::ids::Id::new().hex()
    ));
    let result = copy(from, from_url, to, to_url, &file);
    let _ = std::fs::remove_file(&file);
    result
}

fn copy(
    from: &str,
    from_url: bool,
    to: &str,
    to_url: bool,
    file: &Path,
) -> Result<Summary, BackupError> {
    if from_url {
        let store = open_url(from)?;
        if store.root_account()?.is_none() {
            return Err(BackupError::Refused(format!(
                "{} holds no iamd database",
                crate::store::redact_url(from)
            )));
        }
        write_file_atomically(file, false, |out| write_snapshot(&*store.engine(), out))?;
    } else {
        super::backup_offline(&PathBuf::from(from), file, false)?;
    }
    if !to_url {
        return super::restore(file, Path::new(to));
    }
    let summary = verify_file(file)?;
    let store = open_url(to)?;
    // Checked again: another migration may have filled it meanwhile.
    refuse_non_empty(&store, to)?;
    restore_into(&*store.engine(), super::open(file)?)?;
    if store.root_account()?.is_none() {
        return Err(BackupError::Corrupt(
            "the backup holds no root account".into(),
        ));
    }
    store.mark_initialised()?;
    Ok(summary)
}

fn refuse_non_empty(store: &Store, url: &str) -> Result<(), BackupError> {
    if store.root_account()?.is_some() {
        return Err(BackupError::Refused(format!(
            "{} already holds an iamd database: migrate only into an empty one",
            crate::store::redact_url(url)
        )));
    }
    Ok(())
}
