//! The in-memory engine: every table a `BTreeMap`, for tests and local development
//! (`[store] url = "memory:"`). Nothing is written anywhere; a stop loses everything.
//!
//! Transactions take the one write lock for their whole run, so they are serializable by
//! construction and never retried; their writes go to an overlay that is applied only when
//! `work` succeeds. Ranges read in chunks under the read lock, so a long iteration neither
//! holds the lock nor copies the table.

use super::{Durability, Engine, Entries, Entry, KeyRange, Table, Tx};
use crate::store::page::Order;
use crate::store::{StoreError, StoreResult};
use futures_util::future::BoxFuture;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

pub struct MemoryEngine {
    tables: RwLock<Vec<Map>>,
}

impl Default for MemoryEngine {
    fn default() -> Self {
        MemoryEngine::new()
    }
}

impl MemoryEngine {
    pub fn new() -> MemoryEngine {
        MemoryEngine {
            tables: RwLock::new(vec![Map::new(); Table::ALL.len()]),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<Map>> {
        self.tables.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<Map>> {
        self.tables.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Entries read per lock taken by a range.
const CHUNK: usize = 64;

/// A range read `CHUNK` entries at a time, each chunk starting after the last key seen.
struct Chunks<'a> {
    engine: &'a MemoryEngine,
    table: Table,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    order: Order,
    buffer: std::vec::IntoIter<Entry>,
    done: bool,
}

impl Chunks<'_> {
    fn refill(&mut self) {
        let tables = self.engine.read();
        let map = &tables[self.table.index()];
        let range = map.range::<Vec<u8>, _>((self.lower.clone(), self.upper.clone()));
        let chunk: Vec<Entry> = match self.order {
            Order::Asc => range
                .take(CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Order::Desc => range
                .rev()
                .take(CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        self.done = chunk.len() < CHUNK;
        if let Some((last, _)) = chunk.last() {
            match self.order {
                Order::Asc => self.lower = Bound::Excluded(last.clone()),
                Order::Desc => self.upper = Bound::Excluded(last.clone()),
            }
        }
        self.buffer = chunk.into_iter();
    }
}

impl Iterator for Chunks<'_> {
    type Item = StoreResult<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.buffer.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        self.refill();
        self.buffer.next().map(Ok)
    }
}

/// A transaction's own writes by table and key (`None`: deleted).
type Overlay = BTreeMap<(Table, Vec<u8>), Option<Vec<u8>>>;

/// A transaction's view: its overlay over the tables.
struct MemoryTx<'a> {
    tables: &'a [Map],
    writes: RefCell<Overlay>,
}

impl Tx for MemoryTx<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if let Some(written) = self.writes.borrow().get(&(table, key.to_vec())) {
            return Ok(written.clone());
        }
        Ok(self.tables[table.index()].get(key).cloned())
    }

    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.writes
            .borrow_mut()
            .insert((table, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&self, table: Table, key: &[u8]) -> StoreResult<()> {
        self.writes.borrow_mut().insert((table, key.to_vec()), None);
        Ok(())
    }

    /// Nothing: a transaction holds the tables' write lock from start to commit, so no
    /// other commits while this one runs.
    fn watch_prefix(&self, _table: Table, _prefix: &[u8]) -> StoreResult<()> {
        Ok(())
    }
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Engine for MemoryEngine {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.read()[table.index()].get(key).cloned())
    }

    fn range(&self, table: Table, range: KeyRange<'_>, order: Order) -> Entries<'_> {
        let (lower, upper) = (owned(range.0), owned(range.1));
        // BTreeMap::range panics on an empty or inverted range; such a range has no entries.
        let empty = match (&lower, &upper) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        Box::new(Chunks {
            engine: self,
            table,
            lower,
            upper,
            order,
            buffer: Vec::new().into_iter(),
            done: empty,
        })
    }

    fn transact_dyn(&self, work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        let mut tables = self.write();
        let tx = MemoryTx {
            tables: &tables,
            writes: RefCell::new(BTreeMap::new()),
        };
        match work(&tx) {
            Ok(()) => {
                let writes = tx.writes.into_inner();
                for ((table, key), value) in writes {
                    let map = &mut tables[table.index()];
                    match value {
                        Some(v) => map.insert(key, v),
                        None => map.remove(&key),
                    };
                }
                Ok(())
            }
            // A memory engine never conflicts: the write lock serializes transactions.
            Err(StoreError::Retry) => Err(StoreError::Backend(
                "a memory transaction asked to be retried".into(),
            )),
            Err(e) => Err(e),
        }
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

impl Durability for MemoryEngine {
    fn durable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
}
