//! Last-use times of API keys and users, batched in memory.
//!
//! Authentication happens on every request; writing a record each time would turn every GET
//! into a disk write. Uses are kept in a map and persisted by a periodic task (and on
//! shutdown); reads merge the map over what is on disk.
//!
//! A deleted key or user must not get its time back. Deleting forgets the subject (its
//! batched time and its row), and `persist` writes a time only for a subject whose record
//! still exists, checked in the same transaction as the write: transactions are
//! serializable, so a use noted just after the delete (by a request that authenticated just
//! before it) is dropped, never written back.
//!
//! Several nodes on one database (PostgreSQL) each batch what they saw: `persist` keeps the
//! later of the stored and the batched time, and `get` answers the later of the two, so
//! times merge and never go back.

use super::engine::{transact, Engine, Table};
use super::keys::owned;
use super::StoreResult;
use crate::ids::Id;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct LastLogin {
    /// `subjectid_lastlogin`, and where the subjects live: API keys and users (both
    /// `account ++ id`).
    engine: Arc<dyn Engine>,
    pending: Mutex<HashMap<(Id, Id), i64>>,
}

impl LastLogin {
    pub fn new(engine: Arc<dyn Engine>) -> LastLogin {
        LastLogin {
            engine,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<(Id, Id), i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes a use of `subjects` (a key and its owner) now, under one lock. Memory only.
    pub fn touch(&self, account: &Id, subjects: impl IntoIterator<Item = Id>, millis: i64) {
        let mut pending = self.pending();
        for subject in subjects {
            pending.insert((*account, subject), millis);
        }
    }

    /// The latest of the batched time and the stored one: on a database shared by several
    /// nodes, another node may have stored a later use than this one saw.
    pub fn get(&self, account: &Id, subject: &Id) -> StoreResult<Option<i64>> {
        let pending = self.pending().get(&(*account, *subject)).copied();
        let stored = self
            .engine
            .get(Table::SubjectidLastlogin, &owned(account, subject))?
            .as_deref()
            .and_then(time_of);
        Ok(pending.max(stored))
    }

    /// Writes the batched times of subjects that still exist to the tree (made durable by
    /// the next flush). Entries leave the map only after they are in the tree (or found to
    /// belong to a deleted subject), and only if no newer use replaced them, so a reader
    /// always finds the latest time in one place or the other.
    pub fn persist(&self) -> StoreResult<()> {
        let batch: Vec<((Id, Id), i64)> = self.pending().iter().map(|(k, v)| (*k, *v)).collect();
        if batch.is_empty() {
            return Ok(());
        }
        transact(&*self.engine, |tx| {
            for ((account, subject), t) in &batch {
                let k = owned(account, subject);
                if tx.get(Table::ApikeyidApikey, &k)?.is_some()
                    || tx.get(Table::UseridUser, &k)?.is_some()
                {
                    // Never back in time: another node may have stored a later use.
                    let stored = tx.get(Table::SubjectidLastlogin, &k)?;
                    if stored.as_deref().and_then(time_of) < Some(*t) {
                        tx.put(Table::SubjectidLastlogin, &k, &t.to_be_bytes())?;
                    }
                }
            }
            Ok(())
        })?;
        let mut pending = self.pending();
        for (k, t) in batch {
            if pending.get(&k) == Some(&t) {
                pending.remove(&k);
            }
        }
        Ok(())
    }

    /// Drops the times of deleted subjects: batched and stored. Call it after the delete
    /// committed (a use noted after this is dropped by `persist`).
    pub fn forget(&self, account: &Id, subjects: &[Id]) -> StoreResult<()> {
        {
            let mut pending = self.pending();
            for subject in subjects {
                pending.remove(&(*account, *subject));
            }
        }
        transact(&*self.engine, |tx| {
            for subject in subjects {
                tx.delete(Table::SubjectidLastlogin, &owned(account, subject))?;
            }
            Ok(())
        })
    }
}

/// A stored time (i64 BE milliseconds).
fn time_of(raw: &[u8]) -> Option<i64> {
    raw.try_into().ok().map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use crate::ids::Id;
    use crate::store::apikeys::ApiKeyRecord;
    use crate::store::users::UserRecord;
    use crate::store::Store;

    fn new_key(store: &Store, account: Id, owner: Option<Id>) -> Id {
        let id = crate::ids::ApiKeyId::new();
        let mut digest = vec![0u8; 32];
        crate::ids::random_bytes(&mut digest);
        let record = ApiKeyRecord {
            id,
            account_id: crate::ids::AccountId::from_id(account),
            name: "k".into(),
            owner: owner.map(crate::ids::UserId::from_id),
            status: crate::status::ApiKeyStatus::Active,
            key_digest: digest,
            groups: Vec::new(),
            created_at: 0,
            updated_at: 0,
            etag: 1,
        };
        drop(store.apikeys.create(record).unwrap());
        id.id()
    }

    fn new_user(store: &Store, account: Id) -> Id {
        let email = format!("{}@example.com", Id::new().hex());
        let account = crate::ids::AccountId::from_id(account);
        let user = UserRecord::new(account, email, crate::status::UserStatus::Active);
        let id = user.id.id();
        drop(store.users.create(user, None).unwrap());
        id
    }

    /// The time of `subject` after the store was flushed, closed and opened again.
    fn stored_after_reopen(
        dir: &std::path::Path,
        store: Store,
        account: &Id,
        subject: &Id,
    ) -> Option<i64> {
        store.flush().unwrap();
        drop(store);
        // sled's own threads may hold the lock a moment after the last handle is dropped.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let again = loop {
            match Store::open(dir) {
                Ok(store) => break store,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(e) => panic!("the store opens again: {e}"),
            }
        };
        again.last_login.get(account, subject).unwrap()
    }

    #[test]
    fn a_key_used_then_deleted_leaves_no_time_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = Id::new();
        let (gone, kept) = (
            new_key(&store, account, None),
            new_key(&store, account, None),
        );
        store.last_login.touch(&account, [gone, kept], 1_000);
        store.last_login.persist().unwrap();
        store.last_login.touch(&account, [gone, kept], 2_000);
        drop(store.apikeys.delete(&account, &gone, None).unwrap());
        assert_eq!(store.last_login.get(&account, &gone).unwrap(), None);
        store.flush().unwrap();
        assert_eq!(store.last_login.get(&account, &kept).unwrap(), Some(2_000));
        assert_eq!(
            stored_after_reopen(dir.path(), store, &account, &gone),
            None
        );
    }

    #[test]
    fn a_use_racing_with_the_delete_cannot_bring_the_time_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = Id::new();
        let key = new_key(&store, account, None);
        drop(store.apikeys.delete(&account, &key, None).unwrap());
        // A request that authenticated just before the delete notes its use just after.
        store.last_login.touch(&account, [key], 3_000);
        store.last_login.persist().unwrap();
        assert_eq!(store.last_login.get(&account, &key).unwrap(), None);
        assert_eq!(stored_after_reopen(dir.path(), store, &account, &key), None);
    }

    #[test]
    fn a_deleted_user_takes_its_keys_times_along() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = Id::new();
        let user = new_user(&store, account);
        let key = new_key(&store, account, Some(user));
        store.last_login.touch(&account, [key, user], 1_000);
        store.last_login.persist().unwrap();
        store.last_login.touch(&account, [key, user], 2_000);
        drop(store.users.delete(&account, &user, None).unwrap());
        store.last_login.touch(&account, [key, user], 3_000);
        store.flush().unwrap();
        for subject in [key, user] {
            assert_eq!(store.last_login.get(&account, &subject).unwrap(), None);
        }
        assert_eq!(stored_after_reopen(dir.path(), store, &account, &key), None);
    }

    /// Two nodes on one database each batch the uses they saw: what one persists never
    /// takes the time back (the latest wins), and a node reads the latest of both.
    #[test]
    fn nodes_on_one_database_merge_their_times_and_never_regress() {
        let engine: std::sync::Arc<dyn crate::store::engine::Engine> =
            std::sync::Arc::new(crate::store::engine::MemoryEngine::new());
        let a = Store::over_engine(engine.clone()).unwrap();
        let b = Store::over_engine(engine).unwrap();
        let account = Id::new();
        let key = new_key(&a, account, None);
        a.last_login.touch(&account, [key], 5_000);
        b.last_login.touch(&account, [key], 4_000);
        a.last_login.persist().unwrap();
        assert_eq!(b.last_login.get(&account, &key).unwrap(), Some(5_000));
        b.last_login.persist().unwrap();
        assert_eq!(a.last_login.get(&account, &key).unwrap(), Some(5_000));
        assert_eq!(b.last_login.get(&account, &key).unwrap(), Some(5_000));
        b.last_login.touch(&account, [key], 6_000);
        b.last_login.persist().unwrap();
        assert_eq!(a.last_login.get(&account, &key).unwrap(), Some(6_000));
    }
}
