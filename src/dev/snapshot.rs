//! A copy of every table, taken and put back through the engine boundary: the state that
//! `POST /admin/reset` returns to (the first start's bootstrap and seed).

use crate::store::engine::{transact, Engine, Entry, Table};
use crate::store::{Order, StoreError, StoreResult};
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// Every entry of every table, by table name (names survive a reordering of `Table`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub tables: Vec<(String, Vec<Entry>)>,
}

/// The file in the data directory that keeps the baseline across restarts (mode 0600: it
/// holds the server CAs' keys, as the database does).
pub const FILE: &str = "dev-baseline";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

fn entries(engine: &dyn Engine, table: Table) -> StoreResult<Vec<Entry>> {
    engine
        .range(table, (Bound::Unbounded, Bound::Unbounded), Order::Asc)
        .collect()
}

/// Reads every table now (the caller makes sure nothing writes meanwhile).
pub fn take(engine: &dyn Engine) -> StoreResult<Snapshot> {
    let mut tables = Vec::new();
    for table in Table::ALL {
        tables.push((table.name().to_string(), entries(engine, table)?));
    }
    Ok(Snapshot { tables })
}

/// Makes the database hold exactly `snapshot`, in one transaction: every key it does not
/// hold is deleted, every entry it holds is written.
pub fn put_back(engine: &dyn Engine, snapshot: &Snapshot) -> StoreResult<()> {
    let mut present = Vec::new();
    for table in Table::ALL {
        let keys: Vec<Vec<u8>> = entries(engine, table)?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        present.push((table, keys));
    }
    let mut wanted = Vec::new();
    for (name, rows) in &snapshot.tables {
        let table = Table::from_name(name)
            .ok_or_else(|| StoreError::Backend(format!("the baseline names no table `{name}`")))?;
        wanted.push((table, rows));
    }
    transact(engine, |tx| {
        for (table, keys) in &present {
            for key in keys {
                tx.delete(*table, key)?;
            }
        }
        for (table, rows) in &wanted {
            for (key, value) in rows.iter() {
                tx.put(*table, key, value)?;
            }
        }
        Ok(())
    })
}

/// Writes the baseline file (private, durable).
pub fn save(data_dir: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let bytes = bincode::serialize(snapshot).map_err(std::io::Error::other)?;
    let out = path(data_dir);
    let tmp = out.with_extension("tmp");
    let mut file = crate::backup::secret_file(&tmp)?;
    std::io::Write::write_all(&mut file, &bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &out)
}

/// The baseline file, if there is one.
pub fn load(data_dir: &Path) -> std::io::Result<Option<Snapshot>> {
    match std::fs::read(path(data_dir)) {
        Ok(bytes) => bincode::deserialize(&bytes)
            .map(Some)
            .map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
