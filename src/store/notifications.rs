//! The notification log: one entry per email the server sent (or failed to send).
//! Entries never hold secrets: the message is the email's text with tokens and generated
//! passwords blanked out (see `crate::email`).

use super::durability::Written;
use super::keys::owned;
use super::page::{counts, scan, Page, PageRequest};
use super::{encode, Commit, StoreResult, Trees, TxResult};
use crate::ids::{AccountId, Id, NotificationId};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;
use sled::Transactional;

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
    /// Marks a recorded entry as not sent (its email could not be queued after all).
    fn mark_failed(&self, account: &Id, id: &Id, error_msg: &str) -> StoreResult<Written<()>>;
}

/// Adds `entry` inside a transaction of the write that caused the email, so that both
/// commit together. Each sled transaction writes out the log buffer twice, so one
/// transaction instead of two is what makes an email cheap.
pub fn insert(
    log: &TransactionalTree,
    counts_tx: &TransactionalTree,
    entry: &NotificationRecord,
) -> TxResult<()> {
    log.insert(owned(&entry.account_id, &entry.id), encode(entry))?;
    counts::add(counts_tx, &entry.account_id, ENTITY, 1)?;
    Ok(())
}

pub struct SledNotifications {
    t: Trees,
    commit: Commit,
}

impl SledNotifications {
    pub fn new(t: Trees, commit: Commit) -> SledNotifications {
        SledNotifications { t, commit }
    }
}

impl NotificationStore for SledNotifications {
    fn list(&self, account: &Id, page: &PageRequest) -> StoreResult<Page<NotificationRecord>> {
        scan(
            &self.t.get()?.notificationid_notification,
            account.as_bytes(),
            page,
            false,
            |_, v| super::decode(v).map(Some),
            |_| true,
            || counts::get(&self.t.get()?.account_counts, account, ENTITY),
        )
    }

    fn record(&self, entry: NotificationRecord) -> StoreResult<Written<NotificationRecord>> {
        let t = &self.t.get()?;
        (&t.notificationid_notification, &t.account_counts)
            .transaction(|(log, counts_tx)| insert(log, counts_tx, &entry))?;
        Ok(self.commit.written(entry))
    }

    fn mark_failed(&self, account: &Id, id: &Id, error_msg: &str) -> StoreResult<Written<()>> {
        let key = owned(account, id);
        let log = &self.t.get()?.notificationid_notification;
        // Entries are never changed otherwise: a plain read and write cannot lose an update.
        if let Some(mut entry) = super::codec::read::<NotificationRecord>(log, &key)? {
            entry.success = false;
            entry.error_msg = Some(error_msg.to_string());
            log.insert(key, encode(&entry))?;
        }
        Ok(self.commit.written(()))
    }
}
