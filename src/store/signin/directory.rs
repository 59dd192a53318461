//! The lookups a login needs that the entity stores do not offer: an account by alias, a
//! user by email or username, and every account id (to find the one account an email is
//! in). Read-only, over the tables the account and user stores keep.

use super::super::engine::{borrow_range, Engine, Table};
use super::super::keys::owned_text;
use super::super::page::Order;
use super::super::StoreResult;
use crate::ids::Id;
use std::ops::Bound;
use std::sync::Arc;

pub struct Directory {
    engine: Arc<dyn Engine>,
}

impl Directory {
    pub fn new(engine: Arc<dyn Engine>) -> Directory {
        Directory { engine }
    }

    fn id_at(&self, table: Table, k: &[u8]) -> StoreResult<Option<Id>> {
        Ok(self
            .engine
            .get(table, k)?
            .and_then(|raw| Id::from_slice(&raw)))
    }

    pub fn account_by_alias(&self, alias: &str) -> StoreResult<Option<Id>> {
        self.id_at(Table::AliasAccountid, alias.as_bytes())
    }

    /// The user of `account` whose email or username is `name` (case-insensitive).
    pub fn user_by_name(&self, account: &Id, name: &str) -> StoreResult<Option<Id>> {
        let lower = name.to_lowercase();
        let table = if name.contains('@') {
            match self.id_at(Table::EmailUserid, &owned_text(account, &lower))? {
                Some(id) => return Ok(Some(id)),
                // Usernames may hold '@' too.
                None => Table::UsernameUserid,
            }
        } else {
            Table::UsernameUserid
        };
        self.id_at(table, &owned_text(account, &lower))
    }

    /// Every account id (one key read each: the records are not decoded).
    pub fn account_ids(&self) -> impl Iterator<Item = StoreResult<Id>> + '_ {
        let all = (Bound::Unbounded, Bound::Unbounded);
        self.engine
            .range(Table::AccountidAccount, borrow_range(&all), Order::Asc)
            .filter_map(|entry| match entry {
                Ok((k, _)) => Id::from_slice(&k).map(Ok),
                Err(e) => Some(Err(e)),
            })
    }
}
