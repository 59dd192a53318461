//! What a PostgreSQL failure means to a caller: run the transaction again, the database is
//! out of reach (503, retry later), or a fault (500).

use crate::store::StoreError;
use tokio_postgres::error::SqlState;

const UNREACHABLE: &str = "The database cannot be reached now; retry later.";

/// A failed statement, classified.
#[derive(Debug, Clone)]
pub enum Failure {
    /// A serialization failure or deadlock: the transaction may succeed if run again.
    Retry,
    /// The connection or the server is gone or refusing work.
    Unavailable(String),
    /// A unique index refused a row of the table named (the SQL name): a claim taken (see
    /// `Tx::claim`), or else a fault as `Backend`.
    Taken { table: String, detail: String },
    /// Anything else (a bug in a statement, a constraint): not worth retrying.
    Backend(String),
}

impl Failure {
    pub fn of(e: &tokio_postgres::Error) -> Failure {
        match e.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Failure::Retry
            }
            // Class 08: connection exception; 57P0x: shutting down or starting up; class
            // 53: out of connections, memory or disk.
            Some(code)
                if code.code().starts_with("08")
                    || code.code().starts_with("57P0")
                    || code.code().starts_with("53") =>
            {
                Failure::Unavailable(e.to_string())
            }
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => Failure::Taken {
                table: (e.as_db_error())
                    .and_then(|db| db.table())
                    .unwrap_or_default()
                    .to_string(),
                detail: e.to_string(),
            },
            Some(_) => Failure::Backend(e.to_string()),
            // No SQLSTATE: the socket failed or closed, or the connection could not be made.
            None => Failure::Unavailable(e.to_string()),
        }
    }

    /// The error a caller sees (`Retry` only inside a transaction, which runs again).
    pub fn into_error(self) -> StoreError {
        match self {
            Failure::Retry => StoreError::Retry,
            Failure::Unavailable(detail) => {
                log::warn!("PostgreSQL unavailable: {detail}");
                StoreError::Unavailable(UNREACHABLE.into())
            }
            Failure::Backend(detail) | Failure::Taken { detail, .. } => {
                StoreError::Backend(format!("PostgreSQL: {detail}"))
            }
        }
    }
}

/// A failed statement outside a transaction (where nothing is retried).
pub fn db_error(e: tokio_postgres::Error) -> StoreError {
    match Failure::of(&e) {
        Failure::Retry => StoreError::Backend(format!("PostgreSQL: {e}")),
        other => other.into_error(),
    }
}
