//! API keys. Only a SHA-256 digest of each full key is stored; the digest index is how
//! authentication finds a key without knowing its account.

use super::codec::DecodeCache;
use super::durability::Written;
use super::groups::{Member, MemberTx, Protected, KIND_APIKEY};
use super::keys::{key, owned, tail_id};
use super::lastlogin::LastLogin;
use super::page::{counts, owned_records, Page, PageRequest};
use super::{abort, decode, encode, Commit, StoreError, StoreResult, TreeSet, Trees, TxResult};
use crate::ids::{AccountId, ApiKeyId, Id, UserId};
use crate::status::ApiKeyStatus;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use std::sync::Arc;

pub(super) const ENTITY: &str = "apikeys";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// The user this key acts for.
    pub owner: Option<UserId>,
    /// Stored as its name, as when it was a `String`.
    pub status: ApiKeyStatus,
    /// SHA-256 of the full key (see `auth::apikey`).
    pub key_digest: Vec<u8>,
    /// Group ids; the source of truth for membership (see `groups`).
    pub groups: Vec<Id>,
    pub created_at: i64,
    pub updated_at: i64,
    pub etag: u64,
}

pub trait ApiKeyStore: Send + Sync {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<ApiKeyRecord>>;
    /// Finds a key by the digest of its full text, in any account (authentication: the
    /// record is shared, decoded once per stored version).
    fn by_digest(&self, digest: &[u8]) -> StoreResult<Option<Arc<ApiKeyRecord>>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&ApiKeyRecord) -> bool>,
    ) -> StoreResult<Page<ApiKeyRecord>>;
    /// Creates the key in its `groups`; its owner must be a user of the account.
    fn create(&self, apikey: ApiKeyRecord) -> StoreResult<Written<ApiKeyRecord>>;
    /// Applies `change` (retried on contention, so it must be pure) and bumps `etag`.
    /// Groups and the digest are changed by their own calls, not here.
    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut ApiKeyRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<ApiKeyRecord>>;
    /// Replaces the secret: the old full key stops working at once.
    fn reset_secret(
        &self,
        account: &Id,
        id: &Id,
        digest: &[u8],
    ) -> StoreResult<Written<ApiKeyRecord>>;
    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<ApiKeyRecord>>;
    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>>;
}

pub struct SledApiKeys {
    t: Trees,
    commit: Commit,
    decoded: DecodeCache<ApiKeyRecord>,
    last_login: Arc<LastLogin>,
}

impl SledApiKeys {
    pub fn new(t: Trees, commit: Commit, last_login: Arc<LastLogin>) -> SledApiKeys {
        SledApiKeys {
            t,
            commit,
            decoded: DecodeCache::new(),
            last_login,
        }
    }
}

impl Member for ApiKeyRecord {
    const KIND: u8 = KIND_APIKEY;
    const NAME: &'static str = "API key";
    const FIELD: &'static str = "apikeys";
    fn groups_mut(&mut self) -> &mut Vec<Id> {
        &mut self.groups
    }
}

fn owner_key(account: &Id, owner: &Id, id: &Id) -> Vec<u8> {
    key(&[account.as_bytes(), owner.as_bytes(), id.as_bytes()])
}

fn tx_key(keys: &TransactionalTree, account: &Id, id: &Id) -> TxResult<ApiKeyRecord> {
    match keys.get(owned(account, id))? {
        Some(raw) => decode(&raw).map_err(ConflictableTransactionError::Abort),
        None => abort(StoreError::NotFound("API key")),
    }
}

/// The trees a key insert touches; shared with account provisioning.
pub struct ApiKeyTx<'a> {
    pub keys: &'a TransactionalTree,
    pub hashes: &'a TransactionalTree,
    pub owners: &'a TransactionalTree,
    pub counts: &'a TransactionalTree,
}

impl ApiKeyTx<'_> {
    pub fn insert(&self, apikey: &ApiKeyRecord) -> TxResult<()> {
        let account = &apikey.account_id;
        self.keys
            .insert(owned(account, &apikey.id), encode(apikey))?;
        self.hashes
            .insert(&apikey.key_digest[..], owned(account, &apikey.id))?;
        if let Some(owner) = &apikey.owner {
            self.owners
                .insert(owner_key(account, owner, &apikey.id), &[])?;
        }
        counts::add(self.counts, account, ENTITY, 1)?;
        Ok(())
    }
}

/// Deletes every key `owner` still owns (keys of a deleted user); returns their ids.
pub(super) fn delete_owned_by(t: &TreeSet, account: &Id, owner: &Id) -> StoreResult<Vec<Id>> {
    let ids: Vec<Id> = t
        .ownerid_apikeyid
        .scan_prefix(key(&[account.as_bytes(), owner.as_bytes()]))
        .keys()
        .filter_map(|k| k.ok().and_then(|k| tail_id(&k)))
        .collect();
    for id in &ids {
        match delete_key(t, account, id, None) {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ids)
}

fn delete_key(t: &TreeSet, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<()> {
    let guard = protected.map(|group| Protected {
        group,
        field: "apikey_id",
        message: super::groups::LAST_ADMIN_DELETED,
    });
    (
        &t.apikeyid_apikey,
        &t.keyhash_apikeyid,
        &t.ownerid_apikeyid,
        &t.account_counts,
        &t.groupid_group,
        &t.groupid_memberid,
    )
        .transaction(|(keys, hashes, owners, counts_tx, groups, g2m)| {
            let mut apikey = tx_key(keys, account, id)?;
            let mtx = MemberTx { groups, g2m };
            mtx.leave_all(account, KIND_APIKEY, id, &mut apikey.groups, guard)?;
            keys.remove(owned(account, id))?;
            hashes.remove(&apikey.key_digest[..])?;
            if let Some(owner) = &apikey.owner {
                owners.remove(owner_key(account, owner, id))?;
            }
            counts::add(counts_tx, account, ENTITY, -1)?;
            Ok(())
        })?;
    Ok(())
}

impl ApiKeyStore for SledApiKeys {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<ApiKeyRecord>> {
        super::codec::read(&self.t.get()?.apikeyid_apikey, owned(account, id))
    }

    fn by_digest(&self, digest: &[u8]) -> StoreResult<Option<Arc<ApiKeyRecord>>> {
        let Some(location) = self.t.get()?.keyhash_apikeyid.get(digest)? else {
            return Ok(None);
        };
        let (account, id) = match (Id::from_slice(&location[..16]), tail_id(&location)) {
            (Some(a), Some(i)) if location.len() == 32 => (a, i),
            _ => return Err(StoreError::Backend("bad key digest index entry".into())),
        };
        self.decoded
            .read(&self.t.get()?.apikeyid_apikey, &owned(&account, &id))
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&ApiKeyRecord) -> bool>,
    ) -> StoreResult<Page<ApiKeyRecord>> {
        owned_records(
            &self.t.get()?.apikeyid_apikey,
            &self.t.get()?.account_counts,
            account,
            ENTITY,
            page,
            keep,
        )
    }

    fn create(&self, apikey: ApiKeyRecord) -> StoreResult<Written<ApiKeyRecord>> {
        let t = &self.t.get()?;
        let account = apikey.account_id;
        let stored = (
            &t.apikeyid_apikey,
            &t.keyhash_apikeyid,
            &t.ownerid_apikeyid,
            &t.account_counts,
            &t.groupid_group,
            &t.groupid_memberid,
            &t.userid_user,
        )
            .transaction(|(keys, hashes, owners, counts_tx, groups, g2m, users)| {
                let mut apikey = apikey.clone();
                if let Some(owner) = &apikey.owner {
                    // Re-written unchanged so that a concurrent delete of the owner conflicts
                    // with this transaction instead of leaving a key without its user.
                    let Some(raw) = users.get(owned(&account, owner))? else {
                        return abort(StoreError::Invalid(
                            "owner",
                            format!("User {owner} does not exist."),
                        ));
                    };
                    users.insert(owned(&account, owner), raw)?;
                }
                let wanted = std::mem::take(&mut apikey.groups);
                let mtx = MemberTx { groups, g2m };
                for group in &wanted {
                    mtx.add(&account, group, KIND_APIKEY, &apikey.id, &mut apikey.groups)?;
                }
                ApiKeyTx {
                    keys,
                    hashes,
                    owners,
                    counts: counts_tx,
                }
                .insert(&apikey)?;
                Ok(apikey)
            })?;
        Ok(self.commit.written(stored))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut ApiKeyRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let t = &self.t.get()?;
        let stored = (&t.apikeyid_apikey, &t.ownerid_apikeyid, &t.userid_user).transaction(
            |(keys, owners, users)| {
                let before = tx_key(keys, account, id)?;
                let mut after = before.clone();
                change(&mut after).map_err(ConflictableTransactionError::Abort)?;
                after.groups = before.groups.clone();
                after.key_digest = before.key_digest.clone();
                if after.owner != before.owner {
                    if let Some(owner) = &after.owner {
                        let Some(raw) = users.get(owned(account, owner))? else {
                            return abort(StoreError::Invalid(
                                "owner",
                                format!("User {owner} does not exist."),
                            ));
                        };
                        users.insert(owned(account, owner), raw)?;
                        owners.insert(owner_key(account, owner, id), &[])?;
                    }
                    if let Some(old) = &before.owner {
                        owners.remove(owner_key(account, old, id))?;
                    }
                }
                after.etag = before.etag + 1;
                after.updated_at = crate::clock::now_millis();
                keys.insert(owned(account, id), encode(&after))?;
                Ok(after)
            },
        )?;
        Ok(self.commit.written(stored))
    }

    fn reset_secret(
        &self,
        account: &Id,
        id: &Id,
        digest: &[u8],
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let t = &self.t.get()?;
        let stored = (&t.apikeyid_apikey, &t.keyhash_apikeyid).transaction(|(keys, hashes)| {
            let mut apikey = tx_key(keys, account, id)?;
            hashes.remove(&apikey.key_digest[..])?;
            hashes.insert(digest, owned(account, id))?;
            apikey.key_digest = digest.to_vec();
            apikey.etag += 1;
            apikey.updated_at = crate::clock::now_millis();
            keys.insert(owned(account, id), encode(&apikey))?;
            Ok(apikey)
        })?;
        Ok(self.commit.written(stored))
    }

    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let t = &self.t.get()?;
        let stored = super::groups::change_groups(
            t,
            &t.apikeyid_apikey,
            account,
            id,
            add,
            remove,
            protected,
        )?;
        Ok(self.commit.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>> {
        let t = self.t.get()?;
        delete_key(&t, account, id, protected)?;
        self.last_login.forget(account, &[*id])?;
        Ok(self.commit.written(()))
    }
}
