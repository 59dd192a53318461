//! Last-use times of API keys and users, batched in memory.
//!
//! Authentication happens on every request; writing a record each time would turn every GET
//! into a disk write. Uses are kept in a map and persisted by a periodic task (and on
//! shutdown); reads merge the map over what is on disk.

use super::keys::owned;
use super::{StoreResult, Trees};
use crate::ids::Id;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct LastLogin {
    trees: Trees,
    pending: Mutex<HashMap<(Id, Id), i64>>,
}

impl LastLogin {
    pub fn new(trees: Trees) -> LastLogin {
        LastLogin {
            trees,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Notes a use of `subjects` (a key and its owner) now, under one lock. Memory only.
    pub fn touch(&self, account: &Id, subjects: impl IntoIterator<Item = Id>, millis: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for subject in subjects {
            pending.insert((*account, subject), millis);
        }
    }

    pub fn get(&self, account: &Id, subject: &Id) -> StoreResult<Option<i64>> {
        if let Some(t) = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(*account, *subject))
        {
            return Ok(Some(*t));
        }
        Ok(self
            .trees
            .get()?
            .subjectid_lastlogin
            .get(owned(account, subject))?
            .and_then(|v| v.as_ref().try_into().ok().map(i64::from_be_bytes)))
    }

    /// Writes the batched times to the tree (made durable by the next flush). Entries leave
    /// the map only after they are in the tree, and only if no newer use replaced them, so
    /// a reader always finds the latest time in one place or the other.
    pub fn persist(&self) -> StoreResult<()> {
        let batch: Vec<((Id, Id), i64)> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        let mut writes = sled::Batch::default();
        for ((account, subject), t) in &batch {
            writes.insert(owned(account, subject), &t.to_be_bytes());
        }
        self.trees.get()?.subjectid_lastlogin.apply_batch(writes)?;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (k, t) in batch {
            if pending.get(&k) == Some(&t) {
                pending.remove(&k);
            }
        }
        Ok(())
    }

    /// Drops the stored time of a deleted subject.
    pub fn forget(&self, account: &Id, subject: &Id) -> StoreResult<()> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(*account, *subject));
        self.trees
            .get()?
            .subjectid_lastlogin
            .remove(owned(account, subject))?;
        Ok(())
    }
}
