//! Sessions: what `POST /auth/login` and `POST /auth/token` hand out a bearer token for.
//!
//! A session is stored under `account ++ subject ++ session` (the subject is the user, or
//! the API key of a client-credentials token), and found by the SHA-256 digest of its
//! token. The token itself is never stored.
//!
//! Last use: every request with a token uses its session, and writing the record each time
//! would turn every GET into a disk write. Uses are kept in memory ([`Sessions::touch`]) and
//! written into the records by [`Sessions::persist`] (every few seconds, and at shutdown);
//! [`Sessions::last_used`] merges the two, so idle expiry is exact while the server runs.
//! A restart loses at most the uses since the last persist: a session can then expire that
//! much early, never late.

use super::super::durability::Written;
use super::super::engine::{borrow_range, prefix_range, transact, Engine, Table, Tx};
use super::super::keys::key;
use super::super::page::Order;
use super::super::{decode, encode, StoreError, StoreResult};
use crate::ids::{AccountId, Id};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// Everything its user may do.
    Full,
    /// Only `POST /auth/change-password` (a user in RESET status).
    PasswordChange,
    /// Only the TOTP setup routes (an account that enforces TOTP, a user without it).
    TotpSetup,
    /// A client-credentials token: the rights of its API key (the subject).
    Client,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: Id,
    pub account_id: AccountId,
    /// The user, or for `Client` sessions the API key.
    pub subject: Id,
    pub kind: SessionKind,
    /// SHA-256 of the token.
    pub token_digest: Vec<u8>,
    pub login_time: i64,
    /// The last use written to disk (see the module comment for the one in memory).
    pub last_used: i64,
    /// Absolute end, whatever the use.
    pub expires_at: i64,
    /// The user's `password_changed_time` when the session began: a session whose user's
    /// password changed since (a reset, or a change from another session) is over.
    pub password_epoch: Option<i64>,
    /// For `Client` sessions: the key's digest when the token was issued, so a reset of the
    /// key's secret ends it.
    pub key_digest: Option<Vec<u8>>,
    pub ip_address: String,
    pub user_agent: String,
}

impl SessionRecord {
    fn key(&self) -> Vec<u8> {
        record_key(&self.account_id, &self.subject, &self.id)
    }
}

fn record_key(account: &Id, subject: &Id, id: &Id) -> Vec<u8> {
    key(&[account.as_bytes(), subject.as_bytes(), id.as_bytes()])
}

pub struct Sessions {
    engine: Arc<dyn Engine>,
    /// Record key -> last use not yet written.
    pending: Mutex<HashMap<Vec<u8>, i64>>,
    /// Calls of `persist` since the last sweep.
    persists: std::sync::atomic::AtomicU32,
}

/// `persist` runs every few seconds; every this many calls (about an hour) it also sweeps
/// sessions past their absolute end, which nobody presented again.
const SWEEP_EVERY: u32 = 720;

/// Starts one session inside `tx` (a login writes it with its attempt and audit entry).
pub fn create_in(tx: &dyn Tx, session: &SessionRecord) -> StoreResult<()> {
    if tx
        .get(Table::TokenhashSessionid, &session.token_digest)?
        .is_some()
    {
        return Err(StoreError::Conflict("This session already exists.".into()));
    }
    let k = session.key();
    tx.put(Table::SessionidSession, &k, &encode(session))?;
    tx.put(Table::TokenhashSessionid, &session.token_digest, &k)
}

/// `Sessions::update` inside a transaction that writes other things too (TOTP turned on
/// upgrades the setup session that did it). Ids, subject and token digest stay.
pub fn update_in(
    tx: &dyn Tx,
    session: &SessionRecord,
    change: &dyn Fn(&mut SessionRecord),
) -> StoreResult<SessionRecord> {
    let k = session.key();
    let raw = tx
        .get(Table::SessionidSession, &k)?
        .ok_or(StoreError::NotFound("Session"))?;
    let before: SessionRecord = decode(&raw)?;
    let mut after = before.clone();
    change(&mut after);
    after.id = before.id;
    after.account_id = before.account_id;
    after.subject = before.subject;
    after.token_digest = before.token_digest;
    tx.put(Table::SessionidSession, &k, &encode(&after))?;
    Ok(after)
}

impl Sessions {
    pub fn new(engine: Arc<dyn Engine>) -> Sessions {
        Sessions {
            engine,
            pending: Mutex::new(HashMap::new()),
            persists: std::sync::atomic::AtomicU32::new(0),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }

    /// Starts one session, with `also` written in the same transaction (its audit entry).
    pub fn create_with(
        &self,
        session: &SessionRecord,
        also: &dyn Fn(&dyn Tx) -> StoreResult<()>,
    ) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| {
            create_in(tx, session)?;
            also(tx)
        })?;
        Ok(self.written(()))
    }

    /// The session whose token has SHA-256 `digest`.
    pub fn by_digest(&self, digest: &[u8]) -> StoreResult<Option<SessionRecord>> {
        let Some(k) = self.engine.get(Table::TokenhashSessionid, digest)? else {
            return Ok(None);
        };
        self.engine
            .get(Table::SessionidSession, &k)?
            .map(|raw| decode(&raw))
            .transpose()
    }

    /// The sessions of `subject`, oldest login first.
    pub fn list(&self, account: &Id, subject: &Id) -> StoreResult<Vec<SessionRecord>> {
        let range = prefix_range(&key(&[account.as_bytes(), subject.as_bytes()]));
        let mut out: Vec<SessionRecord> = Vec::new();
        for entry in self
            .engine
            .range(Table::SessionidSession, borrow_range(&range), Order::Asc)
        {
            out.push(decode(&entry?.1)?);
        }
        out.sort_by_key(|s| s.login_time);
        Ok(out)
    }

    /// Ends one session (gone already is fine).
    pub fn delete(&self, session: &SessionRecord) -> StoreResult<Written<()>> {
        self.delete_all(std::slice::from_ref(session), &|_| Ok(()))
    }

    /// Ends one session, with `also` written in the same transaction (its audit entry).
    pub fn delete_with(
        &self,
        session: &SessionRecord,
        also: &dyn Fn(&dyn Tx) -> StoreResult<()>,
    ) -> StoreResult<Written<()>> {
        self.delete_all(std::slice::from_ref(session), also)
    }

    fn delete_all(
        &self,
        sessions: &[SessionRecord],
        also: &dyn Fn(&dyn Tx) -> StoreResult<()>,
    ) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| {
            for s in sessions {
                tx.delete(Table::SessionidSession, &s.key())?;
                tx.delete(Table::TokenhashSessionid, &s.token_digest)?;
            }
            also(tx)
        })?;
        let mut pending = self.pending();
        for s in sessions {
            pending.remove(&s.key());
        }
        Ok(self.written(()))
    }

    /// Ends every session of `subject` but `keep`; returns how many ended.
    pub fn end_others(
        &self,
        account: &Id,
        subject: &Id,
        keep: Option<&Id>,
    ) -> StoreResult<Written<usize>> {
        let ending: Vec<SessionRecord> = self
            .list(account, subject)?
            .into_iter()
            .filter(|s| Some(&s.id) != keep)
            .collect();
        // Durable with the engine's next flush, which `written` waits for.
        drop(self.delete_all(&ending, &|_| Ok(()))?);
        Ok(self.written(ending.len()))
    }

    /// Applies `change` to a stored session (its identity and token stay).
    pub fn update(
        &self,
        session: &SessionRecord,
        change: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<Written<SessionRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, session, change))?;
        Ok(self.written(stored))
    }

    /// Deletes every session past its absolute end at `now` (idle ends depend on each
    /// account's setting and are found when a session is presented or listed).
    pub fn sweep(&self, now: i64) -> StoreResult<usize> {
        let all = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        let mut over = Vec::new();
        for entry in self
            .engine
            .range(Table::SessionidSession, borrow_range(&all), Order::Asc)
        {
            let s: SessionRecord = decode(&entry?.1)?;
            if s.expires_at <= now {
                over.push(s);
            }
        }
        drop(self.delete_all(&over, &|_| Ok(()))?);
        Ok(over.len())
    }

    /// Notes a use of `session` at `millis`. Memory only (see the module comment).
    pub fn touch(&self, session: &SessionRecord, millis: i64) {
        let mut pending = self.pending();
        let slot = pending.entry(session.key()).or_insert(millis);
        *slot = (*slot).max(millis);
    }

    /// The last use of `session`, in memory or on disk.
    pub fn last_used(&self, session: &SessionRecord) -> i64 {
        let noted = self.pending().get(&session.key()).copied();
        noted.map_or(session.last_used, |t| t.max(session.last_used))
    }

    /// Writes the uses noted in memory into the records that still exist (a session ended
    /// meanwhile is not brought back). Entries leave memory only once written, and only if
    /// no newer use replaced them.
    pub fn persist(&self) -> StoreResult<()> {
        let n = self
            .persists
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(crate::clock::now_millis())?;
        }
        let batch: Vec<(Vec<u8>, i64)> = self
            .pending()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        transact(&*self.engine, |tx| {
            for (k, t) in &batch {
                if let Some(raw) = tx.get(Table::SessionidSession, k)? {
                    let mut s: SessionRecord = decode(&raw)?;
                    if *t > s.last_used {
                        s.last_used = *t;
                        tx.put(Table::SessionidSession, k, &encode(&s))?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(account: AccountId, subject: Id, login: i64) -> SessionRecord {
        let mut digest = vec![0u8; 32];
        crate::ids::random_bytes(&mut digest);
        SessionRecord {
            id: Id::new(),
            account_id: account,
            subject,
            kind: SessionKind::Full,
            token_digest: digest,
            login_time: login,
            last_used: login,
            expires_at: login + 1000,
            password_epoch: None,
            key_digest: None,
            ip_address: "127.0.0.1".into(),
            user_agent: "test".into(),
        }
    }

    #[test]
    fn sessions_are_found_by_digest_listed_and_ended() {
        super::super::on_every_engine(Sessions::new, |store| {
            let (a, user, other) = (AccountId::new(), Id::new(), Id::new());
            let s1 = session(a, user, 1);
            let s2 = session(a, user, 2);
            let s3 = session(a, other, 3);
            for s in [&s1, &s2, &s3] {
                drop(store.create_with(s, &|_| Ok(())).unwrap());
            }
            assert!(matches!(
                store.create_with(&s1, &|_| Ok(())),
                Err(StoreError::Conflict(_))
            ));
            assert_eq!(
                store.by_digest(&s2.token_digest).unwrap().unwrap().id,
                s2.id
            );
            let ids = |v: Vec<SessionRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
            assert_eq!(ids(store.list(&a, &user).unwrap()), [s1.id, s2.id]);
            drop(store.end_others(&a, &user, Some(&s2.id)).unwrap());
            assert!(store.by_digest(&s1.token_digest).unwrap().is_none());
            assert_eq!(ids(store.list(&a, &user).unwrap()), [s2.id]);
            assert_eq!(ids(store.list(&a, &other).unwrap()), [s3.id]);
            drop(store.delete(&s2).unwrap());
            assert!(store.list(&a, &user).unwrap().is_empty());
            // s3 ends at 1003: a sweep at 1003 takes it.
            assert_eq!(store.sweep(1002).unwrap(), 0);
            assert_eq!(store.sweep(1003).unwrap(), 1);
            assert!(store.by_digest(&s3.token_digest).unwrap().is_none());
        });
    }

    #[test]
    fn uses_are_kept_in_memory_until_persisted_and_never_revive_an_ended_session() {
        super::super::on_every_engine(Sessions::new, |store| {
            let a = AccountId::new();
            let kept = session(a, Id::new(), 10);
            let ended = session(a, Id::new(), 10);
            drop(store.create_with(&kept, &|_| Ok(())).unwrap());
            drop(store.create_with(&ended, &|_| Ok(())).unwrap());
            store.touch(&kept, 50);
            store.touch(&ended, 50);
            assert_eq!(store.last_used(&kept), 50);
            let on_disk = store.by_digest(&kept.token_digest).unwrap().unwrap();
            assert_eq!(on_disk.last_used, 10, "a use is not a write");
            drop(store.delete(&ended).unwrap());
            store.touch(&ended, 60);
            store.persist().unwrap();
            let on_disk = store.by_digest(&kept.token_digest).unwrap().unwrap();
            assert_eq!(on_disk.last_used, 50);
            assert!(store.by_digest(&ended.token_digest).unwrap().is_none());
            assert!(store.list(&a, &ended.subject).unwrap().is_empty());
        });
    }
}
