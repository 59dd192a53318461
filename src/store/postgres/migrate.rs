//! Schema migrations: numbered SQL files embedded in the binary, applied at start in one
//! transaction under an advisory lock, so nodes starting at once apply each exactly once
//! (the others wait for the lock, then find the migrations recorded).

use super::error::db_error;
use crate::store::{StoreError, StoreResult};
use tokio_postgres::{Client, IsolationLevel};

/// (version, name, SQL), in order. A released migration is never edited: a change is a new
/// file.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "tables", include_str!("migrations/0001_tables.sql")),
    (
        2,
        "signin_tables",
        include_str!("migrations/0002_signin_tables.sql"),
    ),
    (
        3,
        "idpid_stamp",
        include_str!("migrations/0003_idpid_stamp.sql"),
    ),
    (
        4,
        "audit_entry",
        include_str!("migrations/0004_audit_entry.sql"),
    ),
    (
        5,
        "account_counts_delta",
        include_str!("migrations/0005_account_counts_delta.sql"),
    ),
    (
        6,
        "read_cache",
        include_str!("migrations/0006_read_cache.sql"),
    ),
];

/// The advisory lock key that serializes migrations ("iamdmigr" as an integer).
const LOCK: i64 = 0x6961_6d64_6d69_6772;

/// The highest migration this build knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

pub async fn apply(client: &mut Client) -> StoreResult<()> {
    // READ COMMITTED, so that a node that waited for the lock then sees what the node
    // before it recorded.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await
        .map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(db_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(db_error)?;
    let done: Vec<i32> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(db_error)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if let Some(newer) = done.iter().find(|v| **v > latest()) {
        return Err(StoreError::Backend(format!(
            "the database has schema version {newer}, newer than this iamd knows ({}): \
             run the newer iamd, or restore a backup into a fresh database",
            latest()
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        tx.batch_execute(sql).await.map_err(db_error)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await
        .map_err(db_error)?;
        log::info!("PostgreSQL: applied migration {version} ({name})");
    }
    tx.commit().await.map_err(db_error)
}
