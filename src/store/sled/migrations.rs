//! The `schema_version` key and numbered migrations, one function each.
//!
//! A fresh database is stamped with the current version. An older one runs every migration
//! from its version up, in order; a newer one (written by a later release) is refused
//! rather than misread.

use super::TreeSet;
use crate::store::{StoreError, StoreResult};

pub const CURRENT: u32 = 1;
const KEY: &[u8] = b"schema_version";

/// Migration `n` (index n - 1) takes the database from version n to n + 1.
type Migration = fn(&::sled::Db, &TreeSet) -> StoreResult<()>;
const MIGRATIONS: &[Migration] = &[];

pub fn run(db: &::sled::Db, trees: &TreeSet) -> StoreResult<()> {
    let stored = trees
        .meta
        .get(KEY)?
        .map(|v| {
            v.as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| StoreError::Backend("schema_version is unreadable".into()))
        })
        .transpose()?;
    let mut version = match stored {
        Some(v) => v,
        None => {
            trees.meta.insert(KEY, &CURRENT.to_be_bytes())?;
            db.flush()?;
            return Ok(());
        }
    };
    if version > CURRENT {
        return Err(StoreError::Backend(format!(
            "the data directory has schema version {version}, newer than this release's {CURRENT}"
        )));
    }
    while version < CURRENT {
        let step = MIGRATIONS
            .get(version as usize - 1)
            .ok_or_else(|| StoreError::Backend(format!("no migration from version {version}")))?;
        step(db, trees)?;
        version += 1;
        trees.meta.insert(KEY, &version.to_be_bytes())?;
        db.flush()?;
        log::info!("migrated the data directory to schema version {version}");
    }
    Ok(())
}
