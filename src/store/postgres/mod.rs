//! The PostgreSQL engine: one table per [`Table`] (`key bytea PRIMARY KEY, value bytea`),
//! so several iamd nodes can share one database.
//!
//! **Driver.** The engine boundary is synchronous (see `store::engine`), and stores call it
//! straight from actix handlers, that is from inside a tokio runtime (each actix worker is a
//! single-threaded runtime). The sync `postgres` crate cannot be called there: every call
//! does `block_on` on a private runtime, which panics inside another runtime ("Cannot start
//! a runtime from within a runtime"), and `block_in_place` is no way out on a
//! current-thread runtime. So the engine uses the async driver (tokio-postgres) over
//! sockets of its own (`drive`): the calling thread polls the statements and the
//! connection's I/O itself and sleeps in `poll(2)` until the database answers, as a libpq
//! client does, so a round trip wakes the caller and the database's backend and no other
//! thread. The pool (`link`) lends a connection to one caller at a time. A small runtime of
//! the engine's own keeps timers, the read cache's lease connection and background folds.
//!
//! **Workers.** While it waits, an actix worker serves no other request. The ways out that
//! look cheaper do not work here: `block_in_place` panics on actix's current-thread
//! workers; `web::block` needs a `Send + 'static` closure, and the store calls of one
//! request are spread over the auth extractor, the scope, the handler and the service, so
//! there is no one place to put it without cloning every input (and a request would then
//! hop threads once per call); an async engine boundary would cost sled and memory a boxed
//! future per read. So a server on PostgreSQL runs more workers than it has cores when
//! `workers = 0` ([`Engine::default_workers`]): four per core, at least eight, at most one
//! per pooled connection. A worker thread that waits on the database sleeps (no CPU), each
//! waiting call holds one connection, and a slow database holds up the requests waiting on
//! it, while the other workers serve the rest. More workers than that only queue inside the
//! database: with one per pooled connection (16) on two cores, sixteen transactions at once
//! waited on the WAL lock and on each other for CPU: an API-key create cost the node and
//! the database more CPU than with eight, and its p99 at 16 clients was longer in most
//! alternating runs (see BENCHMARKS.md). The pool, not the worker count, bounds what a node
//! asks of the database. Requests that share a kept-alive connection with a stuck one still
//! wait behind it (as on HTTP/1.1 anyway). sled and memory keep one worker per core.
//!
//! **Transactions** run `work` in `BEGIN ISOLATION LEVEL SERIALIZABLE`; every read and write
//! goes to the database, so a transaction reads its own writes. Writes wait and go with the
//! next read or the `COMMIT`, in the same round trip (a create costs `BEGIN`, one round trip
//! per read, and one for its writes and `COMMIT`); a write that fails is reported by the
//! statement it went with, and the transaction fails as before. A serialization failure
//! (SQLSTATE 40001) or deadlock (40P01), in any statement or at `COMMIT`, rolls back and runs
//! `work` again, after a randomised, growing pause, at most [`MAX_ATTEMPTS`] times (then
//! `Unavailable`, a 503). The same holds for CockroachDB, which reports every conflict as
//! 40001.
//!
//! **Durability.** Every connection runs with `synchronous_commit = on` whatever the server
//! default, so a transaction is durable when `COMMIT` returns and `durable()` resolves at
//! once.
//!
//! **Ranges** are lazy: batches by key (`key > $last ORDER BY key LIMIT n`), the first of
//! [`FIRST_BATCH`] rows (a page of 50 and its look-ahead), the next of [`BATCH`], each its own
//! statement, so a page costs what the page costs and a long iteration holds
//! no transaction open.
//!
//! Connections are plain TCP or a unix socket (`host=/dir`); TLS to the database is not
//! supported yet (a URL with `sslmode=require` fails to connect, it never falls back).

pub(crate) mod cache;
#[cfg(test)]
mod cache_tests;
mod counters;
mod drive;
mod error;
mod link;
mod migrate;
mod range;
#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;
mod tx;

use self::error::db_error;
use self::link::{ConnectError, Lease, Link, Links};
use crate::store::engine::{read_ahead, Durability, Engine, Entries, KeyRange, Table, Tx};
use crate::store::page::Order;
use crate::store::{StoreError, StoreResult};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use self::tx::MAX_ATTEMPTS;

/// Rows fetched by the first statement of a range: enough for a page of 50 and the row
/// after it that says whether there are more.
pub const FIRST_BATCH: usize = 64;

/// Rows fetched by each later statement of a range.
pub const BATCH: usize = 256;

/// Connections kept by default: enough for the actix workers of a small machine and a few
/// blocking tasks; PostgreSQL's default allows 100 across all nodes.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// Workers a server on this engine runs at least when `workers = 0`, however few its cores:
/// enough that a few requests stuck on a slow database leave others to serve the rest.
const MIN_WORKERS: usize = 8;

/// The default worker count on `cores` cores with a pool of `pool` connections.
fn workers_for(cores: usize, pool: usize) -> usize {
    (4 * cores).max(MIN_WORKERS).min(pool)
}

/// How long a call waits for a free connection, or for a new one, before answering 503.
const WAIT: Duration = Duration::from_secs(10);

pub struct PostgresEngine {
    links: Arc<Links>,
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// Commits that added to account counters, for `fold_due`.
    additions: std::sync::atomic::AtomicU64,
    /// A fold is running (see `tx::fold_later`): the next one waits until it is done.
    folding: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Point reads outside transactions, while nothing changed (see `cache`).
    cache: std::sync::Arc<cache::Cache>,
}

impl PostgresEngine {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or any form
    /// tokio-postgres parses) and applies the schema migrations.
    pub fn open(url: &str) -> StoreResult<PostgresEngine> {
        PostgresEngine::with_config(parse_url(url)?, DEFAULT_POOL_SIZE)
    }

    /// [`PostgresEngine::open`] with a parsed configuration and a pool size.
    pub fn with_config(
        mut config: tokio_postgres::Config,
        pool_size: usize,
    ) -> StoreResult<PostgresEngine> {
        // A commit must be durable when it returns, whatever the server's default.
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} -c synchronous_commit=on"),
            _ => "-c synchronous_commit=on".to_string(),
        };
        config.options(options);
        if config.get_application_name().is_none() {
            config.application_name("iamd");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(WAIT);
        }
        // The lease keeper's connection: a lease is worth nothing after a crash of the
        // database (every node's connection breaks, so every node stops serving from its
        // cache well before one could restart), so its renewals wait for no disk.
        let mut lease_config = config.clone();
        lease_config.options(format!(
            "{} -c synchronous_commit=off",
            config.get_options().unwrap_or("")
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("iamd-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot start the database threads: {e}")))?;
        let place = place(&config);
        let links = Links::new(config, pool_size, WAIT, runtime.handle().clone());
        let engine = PostgresEngine {
            links: Arc::new(links),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            additions: Default::default(),
            folding: Default::default(),
            cache: Default::default(),
        };
        // The first connection says plainly where it failed (a start error), with the
        // driver's reason and never the password.
        let mut first = engine.links.try_get().map_err(|e| {
            let reason = match e {
                ConnectError::Unreachable(reason) => reason,
                ConnectError::Refused(e) => with_causes(&e),
            };
            StoreError::Unavailable(format!("cannot connect to PostgreSQL at {place}: {reason}"))
        })?;
        let link: &mut Link = &mut first;
        engine.run(link.driver.driving(migrate::apply(&mut link.client)))?;
        drop(first);
        engine
            .handle
            .spawn(cache::keep_lease(engine.cache.clone(), lease_config));
        Ok(engine)
    }

    /// Runs `fut` and waits for its result, on the calling thread. Safe from any thread,
    /// including an actix worker: the wait sleeps in `poll(2)` (no nested runtime, see
    /// `drive`), and timers and spawned tasks are the engine's runtime's (entered here),
    /// never the caller's.
    fn run<T>(&self, fut: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let _runtime = self.handle.enter();
        // A statement that panicked is an error, as any failed call, never a dead worker.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drive::block_on(fut)));
        match done {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(StoreError::Unavailable(format!(
                "cannot wait for the database: {e}"
            ))),
            Err(_) => Err(StoreError::Backend("a database task failed".into())),
        }
    }

    /// Runs `fut`, which uses `link`, driving the link while it waits.
    fn run_on<T>(&self, link: &Link, fut: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.run(link.driver.driving(fut))
    }

    /// Whether a commit that added to account counters should fold their additions: one
    /// in [`counters::FOLD_EVERY`], unless a fold is still running. Folds at once wait for
    /// each other's row locks and WAL flushes, and each holds a pooled connection that a
    /// request then waits for: under a burst of creates they piled up and stalled them.
    /// The commit that takes the fold clears `folding` when it is done (`tx::fold_later`).
    fn fold_due(&self) -> bool {
        use std::sync::atomic::Ordering;
        let n = (self.additions).fetch_add(1, Ordering::Relaxed);
        n % counters::FOLD_EVERY == counters::FOLD_EVERY - 1
            && self
                .folding
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// A pooled connection, for a transaction.
    fn checkout(&self) -> StoreResult<Lease<'_>> {
        self.links.get()
    }
}

/// `e` and the errors under it ("error connecting to server: Connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// Where the pool connects (`host:port/database`, or the socket directory), for messages.
fn place(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config.get_ports().get(i).or(config.get_ports().first());
            let host = match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(dir) => dir.display().to_string(),
            };
            format!("{host}:{}", port.copied().unwrap_or(5432))
        })
        .collect();
    format!("{}/{}", hosts.join(","), config.get_dbname().unwrap_or(""))
}

/// The connection settings of `url`. The parse error never repeats the URL (only the name
/// of a bad option), so no password reaches a log.
pub fn parse_url(url: &str) -> StoreResult<tokio_postgres::Config> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Backend(format!("the PostgreSQL URL is not valid: {e}")))?;
    if config.get_hosts().is_empty() {
        return Err(StoreError::Backend(
            "the PostgreSQL URL names no host (postgres://user:password@host:port/database)".into(),
        ));
    }
    Ok(config)
}

impl Drop for PostgresEngine {
    fn drop(&mut self) {
        self.links.close();
        // Never blocks, so an engine may be dropped on a runtime's thread.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The SQL name of `table` (the migration creates one table per name).
fn sql_name(table: Table) -> &'static str {
    table.name()
}

impl Engine for PostgresEngine {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if let Some(value) = read_ahead::take(read_ahead::engine_id(self), table, key) {
            return Ok(value);
        }
        if let Some(value) = self.cache.lookup(table, key) {
            return Ok(value);
        }
        let generation = self.cache.generation();
        let conn = self.links.get()?;
        let value = self.run_on(&conn, async {
            if table == Table::AccountCounts {
                let stmt = conn.prepare_cached(counters::GET).await.map_err(db_error)?;
                let row = conn.query_one(&stmt, &[&key]).await.map_err(db_error)?;
                return Ok(counters::value(row.get(0), row.get(1)));
            }
            let sql = format!("SELECT value FROM {} WHERE key = $1", sql_name(table));
            let stmt = conn.prepare_cached(&sql).await.map_err(db_error)?;
            let row = conn.query_opt(&stmt, &[&key]).await.map_err(db_error)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })?;
        self.cache
            .fill(generation, table, key.to_vec(), value.clone());
        Ok(value)
    }

    fn reads_ahead(&self) -> bool {
        true
    }

    /// One statement per table, all sent on one connection before any answer is awaited:
    /// one round trip.
    fn get_many(&self, keys: &[(Table, Vec<u8>)]) -> StoreResult<Option<Vec<Option<Vec<u8>>>>> {
        // A counter is its row and its additions (see `counters`): read by `get` only.
        if keys.iter().any(|(table, _)| *table == Table::AccountCounts) {
            return Ok(None);
        }
        let cached: Vec<Option<Option<Vec<u8>>>> = keys
            .iter()
            .map(|(table, key)| self.cache.lookup(*table, key))
            .collect();
        if cached.iter().all(Option::is_some) {
            return Ok(Some(cached.into_iter().flatten().collect()));
        }
        let generation = self.cache.generation();
        let mut tables: Vec<(Table, Vec<Vec<u8>>)> = Vec::new();
        for ((table, key), _) in keys.iter().zip(&cached).filter(|(_, c)| c.is_none()) {
            match tables.iter_mut().find(|(t, _)| t == table) {
                Some((_, wanted)) => wanted.push(key.clone()),
                None => tables.push((*table, vec![key.clone()])),
            }
        }
        let conn = self.links.get()?;
        let conn: &Link = &conn;
        let found = self.run_on(conn, async {
            let reads = tables.iter().map(|(table, wanted)| async move {
                let sql = format!(
                    "SELECT key, value FROM {} WHERE key = ANY($1)",
                    sql_name(*table)
                );
                let stmt = conn.prepare_cached(&sql).await?;
                let rows = conn.query(&stmt, &[wanted]).await?;
                Ok::<_, tokio_postgres::Error>(
                    rows.into_iter()
                        .map(|r| ((*table, r.get::<_, Vec<u8>>(0)), r.get::<_, Vec<u8>>(1)))
                        .collect::<Vec<_>>(),
                )
            });
            let answers = futures_util::future::join_all(reads).await;
            let mut found = std::collections::HashMap::new();
            for answer in answers {
                found.extend(answer.map_err(db_error)?);
            }
            Ok(found)
        })?;
        let mut values = Vec::with_capacity(keys.len());
        for ((table, key), cached) in keys.iter().zip(cached) {
            let value = match cached {
                Some(value) => value,
                None => {
                    let value = found.get(&(*table, key.clone())).cloned();
                    (self.cache).fill(generation, *table, key.clone(), value.clone());
                    value
                }
            };
            values.push(value);
        }
        Ok(Some(values))
    }

    fn range(&self, table: Table, range: KeyRange<'_>, order: Order) -> Entries<'_> {
        Box::new(range::Batches::new(self, table, range, order))
    }

    fn transact_dyn(&self, work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        tx::transact(self, work)
    }

    /// Four workers per core, at least eight, at most one per pooled connection (see the
    /// module comment).
    fn default_workers(&self, cores: usize) -> Option<usize> {
        Some(workers_for(cores, self.links.max()))
    }

    /// Nothing to do: a commit is durable when it returns.
    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

impl Durability for PostgresEngine {
    /// At once: `COMMIT` returned only after the WAL reached the disk.
    fn durable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
impl PostgresEngine {
    /// The first column of each row of `sql`, as text (for tests that look at the schema
    /// or at settings).
    fn texts(&self, sql: &str) -> StoreResult<Vec<String>> {
        let conn = self.links.get()?;
        self.run_on(&conn, async {
            let rows = conn.simple_query(sql).await.map_err(db_error)?;
            Ok(rows
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .collect())
        })
    }
}
