//! The notification log: one entry per email the server sent (or failed to send).
//! Entries never hold secrets: the message is the email's text with tokens and generated
//! passwords blanked out (see `crate::email`).

use super::durability::Written;
use super::engine::{read_in, transact, Engine, Table, Tx};
use super::keys::owned;
use super::page::{counts, scan, Page, PageRequest};
use super::{encode, StoreResult};
use crate::ids::{AccountId, Id, NotificationId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const ENTITY: &str = "notifications";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub id: NotificationId,
    pub account_id: AccountId,
    pub receiver: String,
    pub subject: String,
    pub message: String,
    pub success: bool,
    pub error_msg: Option<String>,
    /// The channel; always "email" for now.
    pub kind: String,
    pub created_at: i64,
}

pub trait NotificationStore: Send + Sync {
    fn list(&self, account: &Id, page: &PageRequest) -> StoreResult<Page<NotificationRecord>>;
    fn record(&self, entry: NotificationRecord) -> StoreResult<Written<NotificationRecord>>;
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<NotificationRecord>>;
    /// Marks a recorded entry as not sent (its email could not be queued after all).
    fn mark_failed(&self, account: &Id, id: &Id, error_msg: &str) -> StoreResult<Written<()>>;
}

/// Adds `entry` inside the transaction of the write that caused the email, so that both
/// commit together (and one transaction instead of two is what makes an email cheap).
pub fn insert_in(tx: &dyn Tx, entry: &NotificationRecord) -> StoreResult<()> {
    tx.put(
        Table::NotificationidNotification,
        &owned(&entry.account_id, &entry.id),
        &encode(entry),
    )?;
    counts::add_in(tx, &entry.account_id, ENTITY, 1)
}

/// `entry` marked as not sent, inside a transaction; an unknown entry is left alone.
pub fn mark_failed_in(tx: &dyn Tx, account: &Id, id: &Id, error_msg: &str) -> StoreResult<()> {
    let key = owned(account, id);
    let table = Table::NotificationidNotification;
    if let Some(mut entry) = read_in::<NotificationRecord>(tx, table, &key)? {
        entry.success = false;
        entry.error_msg = Some(error_msg.to_string());
        tx.put(table, &key, &encode(&entry))?;
    }
    Ok(())
}

/// The notification log of every account, kept by any engine.
pub struct Notifications {
    engine: Arc<dyn Engine>,
}

impl Notifications {
    pub fn new(engine: Arc<dyn Engine>) -> Notifications {
        Notifications { engine }
    }
}

impl NotificationStore for Notifications {
    fn list(&self, account: &Id, page: &PageRequest) -> StoreResult<Page<NotificationRecord>> {
        let engine = &*self.engine;
        scan(
            engine,
            Table::NotificationidNotification,
            account.as_bytes(),
            page,
            false,
            |_, v| super::decode(v).map(Some),
            |_| true,
            || counts::get_in(engine, account, ENTITY),
        )
    }

    fn record(&self, entry: NotificationRecord) -> StoreResult<Written<NotificationRecord>> {
        transact(&*self.engine, |tx| insert_in(tx, &entry))?;
        Ok(Written::new(entry, self.engine.clone()))
    }

    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<NotificationRecord>> {
        super::engine::read(
            &*self.engine,
            Table::NotificationidNotification,
            &owned(account, id),
        )
    }

    fn mark_failed(&self, account: &Id, id: &Id, error_msg: &str) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| {
            mark_failed_in(tx, account, id, error_msg)
        })?;
        Ok(Written::new((), self.engine.clone()))
    }
}
