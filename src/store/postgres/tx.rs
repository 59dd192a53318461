//! Transactions: `work` in a SERIALIZABLE transaction on one pooled connection, run again
//! on a serialization failure or deadlock.

use super::error::Failure;
use super::link::{Lease, Link};
use super::{counters, sql_name, PostgresEngine};
use crate::store::engine::{counter_value, Table, Tx};
use crate::store::{StoreError, StoreResult};
use std::cell::{Cell, RefCell};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Runs of `work` before a transaction that keeps conflicting is refused (503).
pub const MAX_ATTEMPTS: u32 = 64;

/// The longest pause between two runs.
const MAX_PAUSE: Duration = Duration::from_millis(64);

/// A connection lent to one transaction. Unless the transaction ended cleanly (committed or
/// rolled back), the connection is closed instead of going back to the pool, so no later
/// caller inherits a transaction left open (a panic in `work`, a lost `ROLLBACK`).
struct Lent<'a> {
    lease: Option<Lease<'a>>,
    clean: Cell<bool>,
}

impl Lent<'_> {
    fn conn(&self) -> &Link {
        self.lease.as_ref().expect("lent connection")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if !self.clean.get() {
            // Out of the pool: its socket closes and the server rolls back.
            if let Some(lease) = self.lease.take() {
                lease.discard();
            }
        }
    }
}

/// How one run of `work` ended.
enum Outcome {
    /// `wrote`: the transaction changed something.
    Committed {
        wrote: bool,
    },
    Again,
}

pub fn transact(
    engine: &PostgresEngine,
    work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>,
) -> StoreResult<()> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(pause(attempt));
        }
        let outcome = run_once(engine, work);
        // What the run read may be newer than what the cache holds (a commit on another
        // node not announced yet): later reads on this node must not go back in time.
        let wrote = matches!(outcome, Ok(Outcome::Committed { wrote: true }));
        engine.cache.after_transaction(wrote);
        match outcome? {
            Outcome::Committed { .. } => return Ok(()),
            Outcome::Again => continue,
        }
    }
    log::warn!("PostgreSQL: a transaction conflicted {MAX_ATTEMPTS} times; refused");
    Err(StoreError::Unavailable(
        "The database is too busy to apply the change now; retry later.".into(),
    ))
}

/// A random pause below a bound that doubles with each attempt (1 ms, 2 ms, ... 64 ms), so
/// transactions that conflicted do not meet again in step.
fn pause(attempt: u32) -> Duration {
    let bound = Duration::from_millis(1 << attempt.min(6)).min(MAX_PAUSE);
    // std's hasher keys are random per process and per call: enough for a jitter.
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    bound.mul_f64((random % 1000) as f64 / 1000.0)
}

const BEGIN: &str = "BEGIN ISOLATION LEVEL SERIALIZABLE";

fn run_once(
    engine: &PostgresEngine,
    work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>,
) -> StoreResult<Outcome> {
    let lent = Lent {
        lease: Some(engine.checkout()?),
        clean: Cell::new(false),
    };
    let conn = lent.conn();
    let tx = PgTx {
        engine,
        conn,
        begun: Cell::new(false),
        failed: RefCell::new(None),
        added: RefCell::new(Vec::new()),
        pending: RefCell::new(Vec::new()),
        wrote: Cell::new(false),
        touched: RefCell::new(Vec::new()),
        claims: RefCell::new(Vec::new()),
    };
    let result = work(&tx);
    let (begun, wrote, failed, added, pending, touched, claims) = (
        tx.begun.get(),
        tx.wrote.get(),
        tx.failed.into_inner(),
        tx.added.into_inner(),
        tx.pending.into_inner(),
        tx.touched.into_inner(),
        tx.claims.into_inner(),
    );
    // Ends the transaction, if a statement began one.
    let end = |sql| {
        if begun {
            simple(engine, conn, sql)
        } else {
            Ok(())
        }
    };
    // A statement that failed aborted the transaction in the database, whatever `work` made
    // of its error: the run ends as that statement says (never with a COMMIT, which
    // PostgreSQL would answer with a silent ROLLBACK).
    let outcome = match (result, failed) {
        (_, Some(failure)) => Err(failure),
        (Err(StoreError::Retry), None) => Err(Failure::Retry),
        (Err(e), None) => {
            lent.clean.set(end("ROLLBACK").is_ok());
            return Err(e);
        }
        (Ok(()), None) => Ok(()),
    };
    if let Err(failure) = outcome {
        lent.clean.set(end("ROLLBACK").is_ok());
        return end_failed(failure, claims);
    }
    // The writes not sent yet go with the COMMIT, and so does the number announcing a
    // write (see `cache`). If a write fails, the transaction is aborted and PostgreSQL
    // answers the COMMIT with a ROLLBACK: the run ends as that write says.
    let committed = if begun {
        let node = wrote.then(|| engine.cache.node());
        let done = engine.run_on(conn, async move {
            let sent = commit(conn, pending, node).await;
            Ok(sent.map_err(|e| Failure::of(&e)))
        });
        match done {
            Ok(result) => result,
            Err(e) => Err(Failure::Backend(e.to_string())),
        }
    } else {
        Ok(None)
    };
    match committed {
        Ok(announced) => {
            lent.clean.set(true);
            if wrote {
                engine.cache.forget(&touched);
                let cache = &engine.cache;
                let confirmed = engine.run_on(conn, async move {
                    match announced {
                        Some(Ok(row)) => super::cache::confirmed(conn, cache, &row).await,
                        Some(Err(e)) => Err(super::error::db_error(e)),
                        None => Err(StoreError::Backend("no announcement".into())),
                    }
                });
                if let Err(e) = confirmed {
                    // Committed: the other nodes must hear of it, on another connection.
                    log::warn!("PostgreSQL: announcing a write failed ({e}); again");
                    let other = engine.links.get()?;
                    engine.run_on(&other, super::cache::announce(&other, &engine.cache))?;
                }
            }
            if !added.is_empty() && engine.fold_due() {
                fold_later(engine, added);
            }
            Ok(Outcome::Committed { wrote })
        }
        // Rejected at commit (40001): rolled back by the server, so safe to run again.
        Err(Failure::Retry) => {
            lent.clean.set(true);
            Ok(Outcome::Again)
        }
        // A write sent with the COMMIT was refused by a unique index: the server answered
        // the COMMIT with a ROLLBACK, so the connection is sound.
        Err(failure @ Failure::Taken { .. }) => {
            lent.clean.set(true);
            end_failed(failure, claims)
        }
        // The connection went during COMMIT: the outcome is unknown, so not retried.
        Err(failure) => Err(failure.into_error()),
    }
}

/// How a run that failed ends: run again, or the error for the caller (a claim's own when
/// the failure is its key taken, see `Tx::claim`).
fn end_failed(failure: Failure, claims: Vec<(Table, StoreError)>) -> StoreResult<Outcome> {
    match failure {
        Failure::Retry => Ok(Outcome::Again),
        Failure::Taken { table, detail } => {
            let claimed = claims.into_iter().find(|(t, _)| sql_name(*t) == table);
            Err(match claimed {
                Some((_, taken)) => taken,
                None => Failure::Taken { table, detail }.into_error(),
            })
        }
        other => Err(other.into_error()),
    }
}

/// Folds the additions to the counters `keys` into their rows (see `counters`), on a pooled
/// connection of its own, in the background: the request whose commit made the fold due is
/// answered without waiting for it (the fold's statements scan the additions since the last
/// vacuum, and one create in [`counters::FOLD_EVERY`] waiting for them lengthened the tail
/// of all). Each key in a statement of its own outside any transaction, all sent before any
/// answer is awaited. A failed fold is left to the next one; folds that overlap lose
/// nothing (see `counters::FOLD`).
fn fold_later(engine: &PostgresEngine, keys: Vec<Vec<u8>>) {
    let links = engine.links.clone();
    // Cleared however the task ends (see `fold_due`).
    let folding = Folding(engine.folding.clone());
    // On a thread of the engine's runtime that may wait (a link is driven by the thread
    // that waits on it, see `drive`).
    engine.handle.spawn_blocking(move || {
        let _folding = folding;
        let conn = match links.get() {
            Ok(conn) => conn,
            Err(e) => return log::warn!("PostgreSQL: no connection to fold counters: {e}"),
        };
        let folded = conn.driver.driving(async {
            let stmt = conn.prepare_cached(counters::FOLD).await?;
            let folds = keys.iter().map(|key| conn.execute_raw(&stmt, [key]));
            for answer in futures_util::future::join_all(folds).await {
                answer?;
            }
            Ok::<_, tokio_postgres::Error>(())
        });
        let folded = match super::drive::block_on(folded) {
            Ok(folded) => folded.map_err(|e| Failure::of(&e)),
            Err(e) => Err(Failure::Backend(e.to_string())),
        };
        match folded {
            // Done, or lost to a concurrent fold or transaction: the connection is sound.
            Ok(()) | Err(Failure::Retry) => {}
            Err(Failure::Backend(detail) | Failure::Taken { detail, .. }) => {
                log::warn!("PostgreSQL: folding counter additions failed: {detail}");
            }
            // Not back to the pool: dropped, its socket closes.
            Err(Failure::Unavailable(_)) => conn.discard(),
        }
    });
}

/// The engine's `folding` flag, set by `fold_due`; cleared when dropped.
struct Folding(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Folding {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Runs one statement without parameters or rows.
fn simple(engine: &PostgresEngine, conn: &Link, sql: &'static str) -> Result<(), Failure> {
    let done = engine.run_on(conn, async move {
        Ok(conn.batch_execute(sql).await.map_err(|e| Failure::of(&e)))
    });
    match done {
        Ok(result) => result,
        Err(e) => Err(Failure::Backend(e.to_string())),
    }
}

/// Sends `BEGIN` if `begin`, then `writes`, then `last`, all before any answer is awaited
/// (one round trip), in that order; the first failure in that order, or the row `last`
/// answered.
async fn send(
    conn: &Link,
    begin: bool,
    writes: Vec<Statement>,
    last: Option<Statement>,
) -> Result<Option<Row>, tokio_postgres::Error> {
    // Prepared first (once per connection, cached), so that nothing waits between sends.
    let mut prepared = Vec::new();
    for (sql, _) in writes.iter().chain(last.iter()) {
        prepared.push(conn.prepare_cached(sql).await?);
    }
    let begun = async {
        match begin {
            true => conn.batch_execute(BEGIN).await,
            false => Ok(()),
        }
    };
    let executed = execute(conn, &writes, &prepared);
    let answered = async {
        match &last {
            Some((_, params)) => {
                let stmt = prepared.last().expect("prepared");
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
                conn.query_opt(stmt, &refs).await
            }
            None => Ok(None),
        }
    };
    let (begun, executed, answered) = futures_util::future::join3(begun, executed, answered).await;
    begun?;
    executed?;
    answered
}

/// Sends `writes`, `COMMIT`, then (`node`: the transaction wrote) the statement that takes
/// the number announcing the write (`cache::NEXT`), all before any answer is awaited: one
/// round trip. The first failure among the writes and the COMMIT; else the announcement's
/// answer. (If the COMMIT fails, the number was taken anyway: the other nodes clear their
/// caches once for nothing.)
async fn commit(
    conn: &Link,
    writes: Vec<Statement>,
    node: Option<i64>,
) -> Result<Option<Result<Row, tokio_postgres::Error>>, tokio_postgres::Error> {
    let mut prepared = Vec::new();
    for (sql, _) in &writes {
        prepared.push(conn.prepare_cached(sql).await?);
    }
    let next = match node {
        Some(_) => Some(conn.prepare_cached(super::cache::NEXT).await?),
        None => None,
    };
    let executed = execute(conn, &writes, &prepared);
    let committed = conn.batch_execute("COMMIT");
    let announced = async {
        match (&next, node) {
            (Some(stmt), Some(node)) => Some(conn.query_one(stmt, &[&node]).await),
            _ => None,
        }
    };
    let (executed, committed, announced) =
        futures_util::future::join3(executed, committed, announced).await;
    executed?;
    committed?;
    Ok(announced)
}

/// Runs `writes` (each with its statement in `prepared`), sent in order before any answer
/// is awaited (each future sends its message when first polled, and `join_all` polls them
/// in order); the first failure.
async fn execute(
    conn: &Link,
    writes: &[Statement],
    prepared: &[tokio_postgres::Statement],
) -> Result<(), tokio_postgres::Error> {
    let executed = futures_util::future::join_all(writes.iter().zip(prepared).map(
        |((_, params), stmt)| async move {
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
            conn.execute(stmt, &refs).await.map(drop)
        },
    ))
    .await;
    executed.into_iter().collect()
}

struct PgTx<'a> {
    engine: &'a PostgresEngine,
    conn: &'a Link,
    /// Whether `BEGIN` was sent. It goes with the first statement, saving a round trip:
    /// pipelined with a read (if it failed, the read's answer is thrown away), or just before
    /// a write (which must never run outside the transaction).
    begun: Cell<bool>,
    /// The first statement that failed. The database has aborted the transaction, so
    /// nothing more is sent and every later call gives the same answer.
    failed: RefCell<Option<Failure>>,
    /// The account counters added to, to fold after the commit (see `counters`).
    added: RefCell<Vec<Vec<u8>>>,
    /// Writes not sent yet: they go with the next statement whose answer `work` needs, or
    /// with the `COMMIT`, all in one round trip (a write's answer is only whether it
    /// failed, and a failure aborts the whole transaction anyway).
    pending: RefCell<Vec<Statement>>,
    /// Whether `work` wrote anything: then the commit is announced to the other nodes'
    /// caches (see `cache`).
    wrote: Cell<bool>,
    /// The keys written, which this node's cache drops at the commit (see `cache`).
    touched: RefCell<Vec<(Table, Vec<u8>)>>,
    /// The claims sent (`Tx::claim`), with the error each gives if its key is taken.
    claims: RefCell<Vec<(Table, StoreError)>>,
}

/// A statement's text and parameters.
type Statement = (String, Vec<Param>);

impl PgTx<'_> {
    /// Runs `sql` with `params`, after the writes not sent yet and in the same round trip;
    /// the row it answered, if any. `read`: the statement changes nothing, so `BEGIN` may
    /// travel with it.
    fn statement(&self, sql: String, params: Vec<Param>, read: bool) -> StoreResult<Option<Row>> {
        self.begin(read)?;
        let begin = !self.begun.replace(true);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let conn = self.conn;
        let done = self.engine.run_on(conn, async move {
            let answer = send(conn, begin, pending, Some((sql, params))).await;
            Ok(answer.map_err(|e| Failure::of(&e)))
        });
        match done {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(self.fail(failure)),
            Err(e) => Err(self.fail(Failure::Backend(e.to_string()))),
        }
    }

    /// Queues a write of `key` in `table` (see `pending`).
    fn write(&self, table: Table, key: &[u8], sql: String, params: Vec<Param>) -> StoreResult<()> {
        self.begin(false)?;
        self.touch(table, key);
        self.pending.borrow_mut().push((sql, params));
        Ok(())
    }

    /// Notes a key this transaction writes (see `touched`).
    fn touch(&self, table: Table, key: &[u8]) {
        self.touched.borrow_mut().push((table, key.to_vec()));
    }

    /// Refuses a statement after a failure; sends `BEGIN` on its own before the first
    /// write, which must never run outside the transaction (with a read, `statement` sends
    /// it in the same round trip).
    fn begin(&self, read: bool) -> StoreResult<()> {
        if let Some(failure) = self.failed.borrow().clone() {
            return Err(failure.into_error());
        }
        if !read {
            self.wrote.set(true);
        }
        if !self.begun.get() && !read {
            self.begun.set(true);
            if let Err(failure) = simple(self.engine, self.conn, BEGIN) {
                return Err(self.fail(failure));
            }
        }
        Ok(())
    }

    /// Records the first failure (see `failed`); the error for `work`.
    fn fail(&self, failure: Failure) -> StoreError {
        *self.failed.borrow_mut() = Some(failure.clone());
        failure.into_error()
    }
}

/// A statement parameter.
enum Param {
    Bytes(Vec<u8>),
    Int(i64),
}

impl Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Bytes(bytes) => bytes,
            Param::Int(n) => n,
        }
    }
}

fn bytes(key: &[u8]) -> Param {
    Param::Bytes(key.to_vec())
}

/// The first column of `row`, as bytes.
fn first(row: Option<Row>) -> Option<Vec<u8>> {
    row.and_then(|r| r.try_get::<_, Vec<u8>>(0).ok())
}

impl Tx for PgTx<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if table == Table::AccountCounts {
            let row = self.statement(counters::GET.into(), vec![bytes(key)], true)?;
            return Ok(row.and_then(|r| counters::value(r.get(0), r.get(1))));
        }
        let sql = format!("SELECT value FROM {} WHERE key = $1", sql_name(table));
        self.statement(sql, vec![bytes(key)], true).map(first)
    }

    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        let sql = if table == Table::AccountCounts {
            counters::PUT.into()
        } else {
            format!(
                "INSERT INTO {} (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                sql_name(table)
            )
        };
        self.write(table, key, sql, vec![bytes(key), bytes(value)])
    }

    fn delete(&self, table: Table, key: &[u8]) -> StoreResult<()> {
        let sql = if table == Table::AccountCounts {
            counters::DELETE.into()
        } else {
            format!("DELETE FROM {} WHERE key = $1", sql_name(table))
        };
        self.write(table, key, sql, vec![bytes(key)])
    }

    /// A plain `INSERT`, sent with the next statement or the COMMIT: the table's primary key
    /// refuses a taken key there (`Failure::Taken`, mapped back to `taken` by `end_failed`).
    /// A key inserted by a concurrent transaction makes it wait for that one, then fail
    /// (taken) or go on; under SERIALIZABLE it may instead be a serialization failure, and
    /// the run again finds the key taken.
    fn claim(&self, table: Table, key: &[u8], value: &[u8], taken: StoreError) -> StoreResult<()> {
        // A counter is its row and its additions (see `counters`): a plain insert of the
        // row would not see the additions.
        if table == Table::AccountCounts {
            return crate::store::engine::claim_at_once(self, table, key, value, taken);
        }
        let sql = format!(
            "INSERT INTO {} (key, value) VALUES ($1, $2)",
            sql_name(table)
        );
        self.write(table, key, sql, vec![bytes(key), bytes(value)])?;
        self.claims.borrow_mut().push((table, taken));
        Ok(())
    }

    /// A `count(*)` over the range: under SERIALIZABLE its predicate lock (the index pages
    /// it read) makes a concurrent insert into the range a read-write conflict, and with one
    /// the other way too (the inserter read what this one writes) one of the two fails its
    /// commit and is run again. No row is locked: a row lock taken by many transactions at
    /// once costs each a MultiXact and a WAL write.
    fn watch_prefix(&self, table: Table, prefix: &[u8]) -> StoreResult<()> {
        let (sql, params) = match crate::store::page::prefix_end(prefix) {
            Some(end) => (
                format!(
                    "SELECT count(*) FROM {} WHERE key >= $1 AND key < $2",
                    sql_name(table)
                ),
                vec![bytes(prefix), bytes(&end)],
            ),
            None => (
                format!("SELECT count(*) FROM {} WHERE key >= $1", sql_name(table)),
                vec![bytes(prefix)],
            ),
        };
        self.statement(sql, params, true).map(|_| ())
    }

    /// An addition to an account counter is a row of its own (see `counters`).
    fn add(&self, table: Table, key: &[u8], delta: i64) -> StoreResult<()> {
        if table != Table::AccountCounts {
            let current = self.get(table, key)?.map_or(0, |v| counter_value(&v));
            let next = (current as i64).saturating_add(delta).max(0) as u64;
            return self.put(table, key, &next.to_be_bytes());
        }
        let params = vec![bytes(key), Param::Int(delta)];
        self.write(table, key, counters::ADD.into(), params)?;
        let mut added = self.added.borrow_mut();
        if !added.iter().any(|k| k == key) {
            added.push(key.to_vec());
        }
        Ok(())
    }
}
