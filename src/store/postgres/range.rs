//! A lazy range: a batch of rows per statement, each starting after the last key seen, so
//! reading a page of 50 fetches one batch of [`FIRST_BATCH`] whatever the table holds, and no transaction or
//! cursor stays open between batches (each sees what is committed when it runs).

use super::error::db_error;
use super::{counters, sql_name, PostgresEngine, BATCH, FIRST_BATCH};
use crate::store::engine::{Entry, KeyRange, Table};
use crate::store::page::Order;
use crate::store::StoreResult;
use std::ops::Bound;
use tokio_postgres::types::ToSql;

pub struct Batches<'a> {
    engine: &'a PostgresEngine,
    table: Table,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    order: Order,
    buffer: std::vec::IntoIter<Entry>,
    /// Rows the next statement asks for.
    limit: usize,
    done: bool,
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

impl<'a> Batches<'a> {
    pub fn new(
        engine: &'a PostgresEngine,
        table: Table,
        range: KeyRange<'_>,
        order: Order,
    ) -> Self {
        Batches {
            engine,
            table,
            lower: owned(range.0),
            upper: owned(range.1),
            order,
            buffer: Vec::new().into_iter(),
            limit: FIRST_BATCH,
            done: false,
        }
    }

    /// The statement for the next batch and its parameters.
    fn statement(&self) -> (String, Vec<Vec<u8>>) {
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        for (bound, inclusive, exclusive) in [(&self.lower, ">=", ">"), (&self.upper, "<=", "<")] {
            let op = match bound {
                Bound::Included(k) => {
                    params.push(k.clone());
                    inclusive
                }
                Bound::Excluded(k) => {
                    params.push(k.clone());
                    exclusive
                }
                Bound::Unbounded => continue,
            };
            conditions.push(format!("key {op} ${}", params.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let direction = match self.order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let source = if self.table == Table::AccountCounts {
            // Every counter, with its row and its additions (see `counters`).
            "(SELECT k.key, (SELECT value FROM account_counts b WHERE b.key = k.key), \
             (SELECT sum(delta)::bigint FROM account_counts_delta d WHERE d.key = k.key) AS added \
             FROM (SELECT key FROM account_counts UNION SELECT key FROM account_counts_delta) k) c"
        } else {
            sql_name(self.table)
        };
        let columns = if self.table == Table::AccountCounts {
            "key, value, added"
        } else {
            "key, value"
        };
        let sql = format!(
            "SELECT {columns} FROM {source}{filter} ORDER BY key {direction} LIMIT {}",
            self.limit
        );
        (sql, params)
    }

    fn fetch(&self) -> StoreResult<Vec<Entry>> {
        let (sql, params) = self.statement();
        let table = self.table;
        let conn = self.engine.links.get()?;
        self.engine.run_on(&conn, async {
            let stmt = conn.prepare_cached(&sql).await.map_err(db_error)?;
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let rows = conn.query(&stmt, &refs).await.map_err(db_error)?;
            if table == Table::AccountCounts {
                let value = |r: &tokio_postgres::Row| counters::value(r.get(1), r.get(2));
                return Ok(rows
                    .iter()
                    .filter_map(|r| Some((r.get(0), value(r)?)))
                    .collect());
            }
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }
}

impl Iterator for Batches<'_> {
    type Item = StoreResult<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.buffer.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        let batch = match self.fetch() {
            Ok(batch) => batch,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = batch.len() < self.limit;
        self.limit = BATCH;
        if let Some((last, _)) = batch.last() {
            match self.order {
                Order::Asc => self.lower = Bound::Excluded(last.clone()),
                Order::Desc => self.upper = Bound::Excluded(last.clone()),
            }
        }
        self.buffer = batch.into_iter();
        self.buffer.next().map(Ok)
    }
}
