//! User invitations. An invitation names the user it invites and carries an acceptance
//! token, of which only the SHA-256 digest is kept (indexed, so acceptance can find it).
//!
//! Expired invitations are not deleted: every read takes `now` and hides them, so an
//! invitation vanishes the moment it expires without a sweeper.

use super::durability::Written;
use super::engine::{borrow_range, prefix_range, read, read_in, transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::keys::owned;
use super::notifications::{self, NotificationRecord};
use super::page::{scan, Order, Page, PageRequest};
use super::{decode, encode, StoreError, StoreResult};
use crate::ids::{AccountId, Id, InvitationId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub account_id: AccountId,
    pub email: String,
    /// The invited user (created for the invitation, or the existing user of `email`).
    pub user_id: UserId,
    /// Whether the invitation created `user_id` (then revoking it removes that user while
    /// it is still INVITED).
    pub created_user: bool,
    /// Groups the user joins on acceptance.
    pub groups: Vec<Id>,
    /// Identity provider ids.
    pub login_profiles: Vec<Id>,
    /// SHA-256 of the acceptance token; the token itself is only in the email.
    pub token_digest: Vec<u8>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Milliseconds since the epoch after which the invitation no longer exists.
    pub expires_at: i64,
    pub etag: u64,
}

impl InvitationRecord {
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

impl Filterable for InvitationRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "email" => vec![self.email.clone()],
            "user_id" => vec![self.user_id.hex()],
            "login_profiles" => self.login_profiles.iter().map(Id::hex).collect(),
            _ => Vec::new(),
        }
    }
}

pub trait InvitationStore: Send + Sync {
    /// The invitation, unless unknown or expired at `now`.
    fn get(&self, account: &Id, id: &Id, now: i64) -> StoreResult<Option<InvitationRecord>>;
    /// The live invitation whose token has this digest, in any account.
    fn by_token_digest(&self, digest: &[u8], now: i64) -> StoreResult<Option<InvitationRecord>>;
    /// Live invitations at `now` that pass every filter (`total` counts those too).
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        now: i64,
        filters: &[Filter],
    ) -> StoreResult<Page<InvitationRecord>>;
    /// Inserts the invitation, with the log entry of its email.
    fn create(
        &self,
        invitation: InvitationRecord,
        logged_email: Option<&NotificationRecord>,
    ) -> StoreResult<Written<InvitationRecord>>;
    /// Deletes the invitation (expired ones included); unknown: `NotFound`.
    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<InvitationRecord>>;
    /// Deletes every invitation (live or expired) of `user`; returns how many went.
    fn delete_for_user(&self, account: &Id, user: &Id) -> StoreResult<Written<usize>>;
}

/// The invitations of every account, kept by any engine.
pub struct Invitations {
    engine: Arc<dyn Engine>,
}

impl Invitations {
    pub fn new(engine: Arc<dyn Engine>) -> Invitations {
        Invitations { engine }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

/// Inserts the invitation and its token index, with the log entry of its email.
pub fn create_in(
    tx: &dyn Tx,
    invitation: &InvitationRecord,
    logged_email: Option<&NotificationRecord>,
) -> StoreResult<()> {
    let key = owned(&invitation.account_id, &invitation.id);
    if tx
        .get(Table::TokenhashInvitationid, &invitation.token_digest)?
        .is_some()
    {
        return Err(StoreError::Conflict("Token collision.".into()));
    }
    tx.put(Table::TokenhashInvitationid, &invitation.token_digest, &key)?;
    tx.put(Table::InvitationidInvitation, &key, &encode(invitation))?;
    match logged_email {
        Some(entry) => notifications::insert_in(tx, entry),
        None => Ok(()),
    }
}

/// Deletes the invitation (expired ones included) and its token; unknown: `NotFound`.
pub fn delete_in(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<InvitationRecord> {
    let key = owned(account, id);
    let rec: InvitationRecord = read_in(tx, Table::InvitationidInvitation, &key)?
        .ok_or(StoreError::NotFound("Invitation"))?;
    tx.delete(Table::InvitationidInvitation, &key)?;
    tx.delete(Table::TokenhashInvitationid, &rec.token_digest)?;
    Ok(rec)
}

/// Deletes those of the invitations `ids` that still exist; returns how many went.
pub fn delete_many_in(tx: &dyn Tx, account: &Id, ids: &[Id]) -> StoreResult<usize> {
    let mut n = 0;
    for id in ids {
        match delete_in(tx, account, id) {
            Ok(_) => n += 1,
            // Deleted meanwhile by someone else: that is what we wanted.
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The ids of every invitation (live or expired) of `user`, read outside a transaction.
pub fn ids_for_user(engine: &dyn Engine, account: &Id, user: &Id) -> StoreResult<Vec<Id>> {
    let whole = prefix_range(account.as_bytes());
    let mut ids = Vec::new();
    let entries = engine.range(
        Table::InvitationidInvitation,
        borrow_range(&whole),
        Order::Asc,
    );
    for entry in entries {
        let rec: InvitationRecord = decode(&entry?.1)?;
        if *rec.user_id == *user {
            ids.push(*rec.id);
        }
    }
    Ok(ids)
}

impl InvitationStore for Invitations {
    fn get(&self, account: &Id, id: &Id, now: i64) -> StoreResult<Option<InvitationRecord>> {
        let rec: Option<InvitationRecord> = read(
            &*self.engine,
            Table::InvitationidInvitation,
            &owned(account, id),
        )?;
        Ok(rec.filter(|r| r.is_live(now)))
    }

    fn by_token_digest(&self, digest: &[u8], now: i64) -> StoreResult<Option<InvitationRecord>> {
        let Some(raw) = self.engine.get(Table::TokenhashInvitationid, digest)? else {
            return Ok(None);
        };
        if raw.len() != 32 {
            return Err(StoreError::Backend(
                "bad invitation token index entry".into(),
            ));
        }
        let account = Id::from_slice(&raw[..16]).expect("16 bytes");
        let id = Id::from_slice(&raw[16..]).expect("16 bytes");
        self.get(&account, &id, now)
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        now: i64,
        filters: &[Filter],
    ) -> StoreResult<Page<InvitationRecord>> {
        // Always a filtered scan: expiry is decided now, so no stored counter can know the
        // total; invitations per account are few.
        scan(
            &*self.engine,
            Table::InvitationidInvitation,
            account.as_bytes(),
            page,
            true,
            |_, v| decode(v).map(Some),
            |r: &InvitationRecord| r.is_live(now) && r.matches(filters),
            || Ok(0),
        )
    }

    fn create(
        &self,
        invitation: InvitationRecord,
        logged_email: Option<&NotificationRecord>,
    ) -> StoreResult<Written<InvitationRecord>> {
        transact(&*self.engine, |tx| create_in(tx, &invitation, logged_email))?;
        Ok(self.written(invitation))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<InvitationRecord>> {
        let gone = transact(&*self.engine, |tx| delete_in(tx, account, id))?;
        Ok(self.written(gone))
    }

    fn delete_for_user(&self, account: &Id, user: &Id) -> StoreResult<Written<usize>> {
        let ids = ids_for_user(&*self.engine, account, user)?;
        let n = transact(&*self.engine, |tx| delete_many_in(tx, account, &ids))?;
        Ok(self.written(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_invitations_vanish_from_every_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let account = Id::new();
        let now = 1_000_000;
        let make = |expires_at: i64, digest: u8| InvitationRecord {
            id: InvitationId::new(),
            account_id: AccountId::from_id(account),
            email: "a@b.c".into(),
            user_id: UserId::new(),
            created_user: false,
            groups: Vec::new(),
            login_profiles: Vec::new(),
            token_digest: vec![digest; 32],
            created_at: 0,
            updated_at: 0,
            expires_at,
            etag: 1,
        };
        let live = make(now + 1000, 1);
        let soon = make(now + 10, 2);
        let _ = store.invitations.create(live.clone(), None).unwrap();
        let _ = store.invitations.create(soon.clone(), None).unwrap();
        let all = PageRequest {
            want_total: true,
            ..PageRequest::all()
        };
        let page = store.invitations.list(&account, &all, now, &[]).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.total, Some(2));
        let later = now + 10;
        assert!(store
            .invitations
            .get(&account, &soon.id, later)
            .unwrap()
            .is_none());
        assert!(store
            .invitations
            .get(&account, &live.id, later)
            .unwrap()
            .is_some());
        assert!(store
            .invitations
            .by_token_digest(&[2; 32], later)
            .unwrap()
            .is_none());
        assert_eq!(
            store
                .invitations
                .by_token_digest(&[1; 32], later)
                .unwrap()
                .map(|i| i.id),
            Some(live.id)
        );
        let page = store.invitations.list(&account, &all, later, &[]).unwrap();
        assert_eq!(
            page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![live.id]
        );
        assert_eq!(page.total, Some(1));
        // Deleting frees the token; other accounts see nothing.
        assert!(store
            .invitations
            .get(&Id::new(), &live.id, now)
            .unwrap()
            .is_none());
        let _ = store.invitations.delete(&account, &live.id).unwrap();
        assert!(store
            .invitations
            .by_token_digest(&[1; 32], now)
            .unwrap()
            .is_none());
        assert!(matches!(
            store.invitations.delete(&account, &live.id),
            Err(StoreError::NotFound(_))
        ));
    }
}
