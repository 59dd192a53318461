//! Taking a stopped server's backup, and restoring a backup into an engine or a new data
//! directory, all through the engine boundary.

use super::{open, read_snapshot, verify_file, write_file_atomically, write_snapshot};
use super::{BackupError, Item, Summary};
use crate::store::engine::{transact, Engine, Table};
use crate::store::{Order, Store};
use std::io::Read;
use std::ops::Bound;
use std::path::Path;

/// A restore commits at most this many entries, or about this many bytes, per transaction:
/// enough to amortise a commit, small enough that no transaction holds the whole backup.
const BATCH_ENTRIES: usize = 1000;
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Entries waiting for their transaction.
#[derive(Default)]
struct Batch {
    entries: Vec<(Table, Vec<u8>, Vec<u8>)>,
    bytes: usize,
}

impl Batch {
    fn push(
        &mut self,
        engine: &dyn Engine,
        table: Table,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), BackupError> {
        self.bytes += key.len() + value.len();
        self.entries.push((table, key.to_vec(), value.to_vec()));
        if self.entries.len() >= BATCH_ENTRIES || self.bytes >= BATCH_BYTES {
            self.commit(engine)?;
        }
        Ok(())
    }

    fn commit(&mut self, engine: &dyn Engine) -> Result<(), BackupError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        transact(engine, |tx| {
            for (table, key, value) in &self.entries {
                tx.put(*table, key, value)?;
            }
            Ok(())
        })?;
        self.entries.clear();
        self.bytes = 0;
        Ok(())
    }
}

/// Deletes every entry of every table, a bounded batch per transaction.
fn clear(engine: &dyn Engine) -> Result<(), BackupError> {
    for table in Table::ALL {
        loop {
            let keys: Vec<Vec<u8>> = engine
                .range(table, (Bound::Unbounded, Bound::Unbounded), Order::Asc)
                .take(BATCH_ENTRIES)
                .map(|entry| entry.map(|(key, _)| key))
                .collect::<Result<_, _>>()?;
            if keys.is_empty() {
                break;
            }
            transact(engine, |tx| {
                for key in &keys {
                    tx.delete(table, key)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Replaces everything `engine` holds with the backup read from `input`, and flushes it.
/// The caller verifies the file first (`verify_file`): entries are written as they are read.
pub fn restore_into(engine: &dyn Engine, input: impl Read) -> Result<Summary, BackupError> {
    clear(engine)?;
    let mut batch = Batch::default();
    let mut table = None;
    let summary = read_snapshot(input, |item| {
        match item {
            Item::Table(t) => table = Some(t),
            Item::Entry(key, value) => {
                let t = table
                    .ok_or_else(|| BackupError::Corrupt("an entry before any table".into()))?;
                batch.push(engine, t, key, value)?;
            }
        }
        Ok(())
    })?;
    batch.commit(engine)?;
    engine.flush()?;
    Ok(summary)
}

/// Backs up a stopped server's data directory (a running one is refused: its database is
/// locked, and a consistent copy must come through the server).
pub fn backup_offline(
    data_dir: &Path,
    out: &Path,
    overwrite: bool,
) -> Result<Summary, BackupError> {
    if !data_dir.join("db").join("conf").exists() {
        return Err(BackupError::Refused(format!(
            "{} holds no iamd database",
            data_dir.display()
        )));
    }
    if crate::datadir::in_use(data_dir) {
        return Err(BackupError::Refused(format!(
            "{} is in use by a running server: back it up through the server \
             (iamd backup --url ...)",
            data_dir.display()
        )));
    }
    let store = Store::open(data_dir)?;
    write_file_atomically(out, overwrite, |file| {
        write_snapshot(&*store.engine(), file)
    })
}

/// Restores `backup` into `data_dir`, which must be missing or empty. The file is verified
/// completely before anything is written; on failure the directory is left as it was.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir).map_err(|e| {
            BackupError::Refused(format!("cannot read {}: {e}", data_dir.display()))
        })?;
        if entries.next().is_some() {
            return Err(BackupError::Refused(format!(
                "{} is not empty: restore only into a new or empty directory",
                data_dir.display()
            )));
        }
    }
    verify_file(backup)?;
    let created_dir = !data_dir.exists();
    let result = import(backup, data_dir);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(data_dir.join("db"));
        let _ = std::fs::remove_file(data_dir.join(crate::store::MARKER));
        if created_dir {
            let _ = std::fs::remove_dir(data_dir);
        }
    }
    result
}

fn import(backup: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
    crate::private::create_dir(data_dir)?;
    let summary = {
        let store = Store::open(data_dir)?;
        let summary = restore_into(&*store.engine(), open(backup)?)?;
        store.flush()?;
        summary
    };
    // Opening it again as the server does runs the migrations and reads every record back,
    // once the engine's threads have let go of the lock of the store just dropped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while crate::datadir::in_use(data_dir) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let store = Store::open(data_dir)
        .map_err(|e| BackupError::Corrupt(format!("the restored database does not open: {e}")))?;
    // A start reads every record only after it serves: a restore reads them before it
    // reports success.
    store
        .check_records()
        .map_err(|e| BackupError::Corrupt(format!("the restored database does not open: {e}")))?;
    let Some(root) = store.root_account()? else {
        return Err(BackupError::Corrupt(
            "the backup holds no root account".into(),
        ));
    };
    // The restored log says it was restored, and from which file: an entry made by the
    // server itself, in the restored store (the backup's own entries are kept as they were).
    let account = crate::ids::AccountId::from_id(root);
    let mut entry = crate::service::audit::system_entry(account, "restore", "account", &root);
    let name = backup.file_name().map(|n| n.to_string_lossy().into_owned());
    entry.fields = vec![crate::service::audit::change("backup", None, name.as_ref())];
    transact(&*store.engine(), |tx| {
        crate::store::audit::record_in(tx, &entry)
    })?;
    store.flush()?;
    store.mark_initialised()?;
    Ok(summary)
}
