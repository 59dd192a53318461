//! PostgreSQL for the HTTP tests. `IAMD_TEST_PG_URL` names a database (`.ci/postgres` starts
//! a throwaway cluster and sets it); each server under test gets a schema of its own there
//! (its URL sets `search_path`), dropped when the test is done, so tests run in parallel
//! without seeing each other's rows.
//!
//! `IAMD_TEST_STORE=postgres` runs every `spawn_app` server on PostgreSQL (see common.rs).

use std::hash::BuildHasher;

pub const URL_VAR: &str = "IAMD_TEST_PG_URL";

/// Whether the whole suite runs on PostgreSQL (`IAMD_TEST_STORE=postgres`).
pub fn suite_on_postgres() -> bool {
    match std::env::var("IAMD_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("") | Ok("sled") | Err(_) => false,
        Ok(other) => panic!("IAMD_TEST_STORE={other}: use `postgres` or leave it unset"),
    }
}

/// The test database's URL; `None` (the PostgreSQL tests skip) without one, except under CI
/// (`CI=true`), where skipping would pass a run that tested nothing.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true") && !suite_on_postgres(),
                "{URL_VAR} is not set: run the tests under .ci/postgres"
            );
            eprintln!("{URL_VAR} is not set: a PostgreSQL test is skipped (see .ci/postgres)");
            None
        }
    }
}

/// The schemas of stopped apps, by data directory, so that a test that restarts a server
/// on its data directory (`test_config(dir)`) finds the same database. Kept until the test
/// process ends (the throwaway cluster goes with it).
static KEPT: std::sync::Mutex<Vec<(std::path::PathBuf, Schema)>> =
    std::sync::Mutex::new(Vec::new());

/// Keeps `schema` as the database of `data_dir` (an app stopped to be restarted).
pub fn keep_for(data_dir: &std::path::Path, schema: Schema) {
    KEPT.lock().unwrap().push((data_dir.to_path_buf(), schema));
}

/// The store URL of a stopped app's data directory, if it ran on PostgreSQL.
pub fn url_for(data_dir: &std::path::Path) -> Option<String> {
    let kept = KEPT.lock().unwrap();
    kept.iter()
        .find(|(dir, _)| dir == data_dir)
        .map(|(_, schema)| schema.url())
}

/// A schema of its own in the test database, dropped with its tables when this goes.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    pub fn create() -> Option<Schema> {
        let base = url()?;
        let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let name = format!("iamd_api_{random:016x}");
        admin(&base, &format!("CREATE SCHEMA {name}"));
        Some(Schema { base, name })
    }

    /// A schema for a real binary under the `IAMD_TEST_STORE=postgres` switch (none without
    /// it), and the environment that puts the binary on it.
    pub fn for_suite() -> (Option<Schema>, Vec<(&'static str, String)>) {
        if !suite_on_postgres() {
            return (None, Vec::new());
        }
        let schema = Schema::create().expect(URL_VAR);
        let env = vec![("IAMD_STORE_URL", schema.url())];
        (Some(schema), env)
    }

    /// The store URL of a server whose tables land in this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }

    /// Holds `LOCK TABLE table IN ACCESS EXCLUSIVE MODE` in an open transaction until the
    /// guard goes: every statement that touches the table waits (a database that hangs).
    pub fn lock(&self, table: &str) -> Lock {
        let (url, sql) = (
            self.base.clone(),
            format!(
                "BEGIN; SET LOCAL search_path = {}; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE",
                self.name
            ),
        );
        let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect to the test database");
                let task = tokio::spawn(connection);
                client.batch_execute(&sql).await.expect("lock the table");
                locked.0.send(()).unwrap();
                let _ = release.1.recv();
                client.batch_execute("COMMIT").await.expect("unlock");
                drop(client);
                let _ = task.await;
            })
        });
        locked.1.recv().expect("the table is locked");
        Lock {
            release: Some(release.0),
            thread: Some(thread),
        }
    }

    /// The rows of `table` in this schema.
    pub fn rows(&self, table: &str) -> i64 {
        self.count(&format!("SELECT count(*) FROM {}.{table}", self.name))
    }

    /// The first column of the first row of `sql` (a count), as i64.
    pub fn count(&self, sql: &str) -> i64 {
        let (url, sql) = (self.base.clone(), sql.to_string());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect to the test database");
                let task = tokio::spawn(connection);
                let n: i64 = client.query_one(&sql, &[]).await.expect(&sql).get(0);
                drop(client);
                let _ = task.await;
                n
            })
        })
        .join()
        .expect("PostgreSQL query")
    }
}

/// A table lock held by [`Schema::lock`]; released when dropped.
pub struct Lock {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            admin(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// Runs `sql` on a connection of its own, on a thread of its own (a caller inside a
/// runtime is no concern).
fn admin(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
            let task = tokio::spawn(connection);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
        })
    })
    .join()
    .expect("PostgreSQL test setup");
}
