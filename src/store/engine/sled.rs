//! The embedded default engine: one sled tree per table in `<data_dir>/db`.
//!
//! A transaction spans every tree (sled stages them under one lock and retries `work` on a
//! conflict); a commit is made durable by the group-commit flusher (`store::durability`),
//! so concurrent writers share one flush.

use super::{Engine, Entries, KeyRange, Table, Tx};
use crate::store::page::Order;
use crate::store::{Commit, StoreError, StoreResult};
use ::sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};
use ::sled::Transactional;
use futures_util::future::BoxFuture;
use std::cell::RefCell;

pub struct SledEngine {
    db: ::sled::Db,
    /// Indexed by `Table::index`.
    trees: Vec<::sled::Tree>,
    commit: Commit,
}

impl SledEngine {
    /// The engine over an open database; `commit` makes its writes durable.
    pub fn new(db: ::sled::Db, commit: Commit) -> StoreResult<SledEngine> {
        let trees = Table::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledEngine { db, trees, commit })
    }

    fn tree(&self, table: Table) -> &::sled::Tree {
        &self.trees[table.index()]
    }
}

struct SledTx<'a> {
    views: &'a [TransactionalTree],
}

fn in_tx(e: UnabortableTransactionError) -> StoreError {
    match e {
        UnabortableTransactionError::Conflict => StoreError::Retry,
        UnabortableTransactionError::Storage(e) => e.into(),
    }
}

impl Tx for SledTx<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let found = self.views[table.index()].get(key).map_err(in_tx)?;
        Ok(found.map(|v| v.to_vec()))
    }

    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.views[table.index()]
            .insert(key, value)
            .map_err(in_tx)?;
        Ok(())
    }

    fn delete(&self, table: Table, key: &[u8]) -> StoreResult<()> {
        self.views[table.index()].remove(key).map_err(in_tx)?;
        Ok(())
    }
}

impl Engine for SledEngine {
    fn name(&self) -> &'static str {
        "sled"
    }

    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.tree(table).get(key)?.map(|v| v.to_vec()))
    }

    fn range(&self, table: Table, range: KeyRange<'_>, order: Order) -> Entries<'_> {
        let iter = self.tree(table).range::<&[u8], _>(range);
        let entry = |r: ::sled::Result<(::sled::IVec, ::sled::IVec)>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(StoreError::from)
        };
        match order {
            Order::Asc => Box::new(iter.map(entry)),
            Order::Desc => Box::new(iter.rev().map(entry)),
        }
    }

    fn transact_dyn(&self, work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        // sled wants a `Fn` it may call again on a conflict; the cell lends it our `FnMut`.
        let work = RefCell::new(work);
        self.trees[..]
            .transaction(|views| {
                let tx = SledTx { views };
                match (work.borrow_mut())(&tx) {
                    Ok(()) => Ok(()),
                    Err(StoreError::Retry) => Err(ConflictableTransactionError::Conflict),
                    Err(e) => Err(ConflictableTransactionError::Abort(e)),
                }
            })
            .map_err(StoreError::from)
    }

    fn durable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(self.commit.durable())
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush()?;
        Ok(())
    }
}
