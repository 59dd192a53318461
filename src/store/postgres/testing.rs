//! PostgreSQL for tests. `IAMD_TEST_PG_URL` names a database (`.ci/postgres` starts a
//! throwaway cluster and sets it); each engine under test gets a fresh schema of its own
//! there, so tests run in parallel without seeing each other's rows.
//!
//! Without the variable the PostgreSQL cases are skipped with a notice, except under CI
//! (`CI=true`), where that would pass a run that tested nothing: there they fail.

use super::PostgresEngine;
use std::hash::BuildHasher;
use std::io::Write;
use std::sync::Once;
use tokio_postgres::NoTls;

pub const URL_VAR: &str = "IAMD_TEST_PG_URL";

/// The test database's URL, if there is one (see the module comment).
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{URL_VAR} is not set: under CI the PostgreSQL tests must run \
                 (.ci/run starts a cluster with .ci/postgres)"
            );
            static NOTICE: Once = Once::new();
            // Straight to stderr: the test harness would swallow an eprintln! of a test
            // that passes.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "{URL_VAR} is not set: the PostgreSQL cases are skipped (see .ci/postgres)"
                );
            });
            None
        }
    }
}

/// A schema of its own in the test database, dropped with its tables when this goes.
pub struct Schema {
    url: String,
    name: String,
}

impl Schema {
    pub fn create() -> Option<Schema> {
        let url = url()?;
        let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let name = format!("iamd_test_{random:016x}");
        admin(&url, format!("CREATE SCHEMA {name}"));
        Some(Schema { url, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection configuration whose tables all land in this schema.
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config: tokio_postgres::Config = self.url.parse().expect("IAMD_TEST_PG_URL");
        let search_path = format!("-c search_path={}", self.name);
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {search_path}"),
            _ => search_path,
        };
        config.options(options);
        config
    }

    /// Runs `sql` in the test database (outside this schema's search path).
    pub fn admin(&self, sql: &str) {
        admin(&self.url, sql.to_string());
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            admin(&self.url, format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// A PostgreSQL engine in a fresh schema, if there is a test database.
pub fn engine() -> Option<(PostgresEngine, Schema)> {
    let schema = Schema::create()?;
    let engine = PostgresEngine::with_config(schema.config(), super::DEFAULT_POOL_SIZE)
        .expect("open PostgreSQL");
    Some((engine, schema))
}

/// Runs `sql` on a connection of its own, on a thread of its own (so a caller inside a
/// runtime is no concern).
fn admin(url: &str, sql: String) {
    let url = url.to_string();
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
            let task = tokio::spawn(connection);
            client.batch_execute(&sql).await?;
            drop(client);
            let _ = task.await;
            Ok::<_, tokio_postgres::Error>(())
        })
    })
    .join()
    .expect("admin thread");
    done.unwrap_or_else(|e| panic!("PostgreSQL test setup failed: {e}"));
}
