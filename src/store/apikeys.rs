//! API keys. Only a SHA-256 digest of each full key is stored; the digest index is how
//! authentication finds a key without knowing its account.

use super::codec::DecodeCache;
use super::durability::Written;
use super::engine::{keys_with_prefix, read, read_in, transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::keys::{key, owned, tail_id};
use super::lastlogin::LastLogin;
use super::memberships::{self, Member, MemberKind, Protected, KIND_APIKEY};
use super::page::{counts, owned_records_in, Page, PageRequest};
use super::{encode, StoreError, StoreResult};
use crate::ids::{AccountId, ApiKeyId, Id, UserId};
use crate::status::ApiKeyStatus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const ENTITY: &str = "apikeys";

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

impl Filterable for ApiKeyRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "owner" => self.owner.iter().map(|o| o.hex()).collect(),
            "status" => vec![self.status.to_string()],
            _ => Vec::new(),
        }
    }
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
        filters: &[Filter],
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

/// The API keys of every account, kept by any engine.
pub struct ApiKeys {
    engine: Arc<dyn Engine>,
    decoded: DecodeCache<ApiKeyRecord>,
    last_login: Arc<LastLogin>,
}

impl ApiKeys {
    pub fn new(engine: Arc<dyn Engine>, last_login: Arc<LastLogin>) -> ApiKeys {
        ApiKeys {
            engine,
            decoded: DecodeCache::new(),
            last_login,
        }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

impl Member for ApiKeyRecord {
    const KIND: MemberKind = KIND_APIKEY;
    const NAME: &'static str = "API key";
    const FIELD: &'static str = "apikeys";
    const TABLE: Table = Table::ApikeyidApikey;
    fn groups_mut(&mut self) -> &mut Vec<Id> {
        &mut self.groups
    }
}

/// `ownerid_apikeyid` key: `account ++ owner user ++ key`.
fn owner_key(account: &Id, owner: &Id, id: &Id) -> Vec<u8> {
    key(&[account.as_bytes(), owner.as_bytes(), id.as_bytes()])
}

fn key_in(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<ApiKeyRecord> {
    read_in(tx, Table::ApikeyidApikey, &owned(account, id))?.ok_or(StoreError::NotFound("API key"))
}

/// Inserts a new key with its digest and owner indexes (its groups as they are: callers
/// add memberships with `memberships::add_in`).
pub fn insert_in(tx: &dyn Tx, apikey: &ApiKeyRecord) -> StoreResult<()> {
    let account = &apikey.account_id;
    let k = owned(account, &apikey.id);
    claim_digest(tx, &apikey.key_digest, &k)?;
    tx.put(Table::ApikeyidApikey, &k, &encode(apikey))?;
    if let Some(owner) = &apikey.owner {
        tx.put(
            Table::OwneridApikeyid,
            &owner_key(account, owner, &apikey.id),
            &[],
        )?;
    }
    counts::add_in(tx, account, ENTITY, 1)
}

/// Refuses a digest another key has: the digest index finds one key per digest. (Digests of
/// random keys never collide; this keeps the index from being overwritten if one did.) The
/// entry is claimed (`Tx::claim`): without a read that conflicts with other creates, and
/// on PostgreSQL checked by the unique index at the commit.
fn claim_digest(tx: &dyn Tx, digest: &[u8], k: &[u8]) -> StoreResult<()> {
    let taken = StoreError::Conflict("Key collision.".into());
    tx.claim(Table::KeyhashApikeyid, digest, k, taken)
}

/// Refuses (400 on `owner`) an owner that is not a user of the account. A concurrent delete
/// of the owner watches the keys it owns (`watch_owned_in`), so this create cannot commit
/// after it on the strength of this read: one of the two is run again.
fn check_owner_in(tx: &dyn Tx, account: &Id, owner: &Id) -> StoreResult<()> {
    if tx.get(Table::UseridUser, &owned(account, owner))?.is_none() {
        return Err(StoreError::Invalid(
            "owner",
            format!("User {owner} does not exist."),
        ));
    }
    Ok(())
}

/// Creates the key in its `groups`; its owner must be a user of the account.
pub fn create_in(tx: &dyn Tx, apikey: &ApiKeyRecord) -> StoreResult<ApiKeyRecord> {
    let account = apikey.account_id;
    let mut apikey = apikey.clone();
    if let Some(owner) = &apikey.owner {
        check_owner_in(tx, &account, owner)?;
    }
    let wanted = std::mem::take(&mut apikey.groups);
    for group in &wanted {
        memberships::add_in(
            tx,
            &account,
            group,
            KIND_APIKEY,
            &apikey.id,
            &mut apikey.groups,
        )?;
    }
    insert_in(tx, &apikey)?;
    Ok(apikey)
}

/// Applies `change` to the stored key (see `ApiKeyStore::update`).
pub fn update_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    change: &dyn Fn(&mut ApiKeyRecord) -> StoreResult<()>,
) -> StoreResult<ApiKeyRecord> {
    let before = key_in(tx, account, id)?;
    let mut after = before.clone();
    change(&mut after)?;
    after.groups = before.groups.clone();
    after.key_digest = before.key_digest.clone();
    if after.owner != before.owner {
        if let Some(owner) = &after.owner {
            check_owner_in(tx, account, owner)?;
            tx.put(Table::OwneridApikeyid, &owner_key(account, owner, id), &[])?;
        }
        if let Some(old) = &before.owner {
            tx.delete(Table::OwneridApikeyid, &owner_key(account, old, id))?;
        }
    }
    after.etag = before.etag + 1;
    after.updated_at = crate::clock::now_millis();
    tx.put(Table::ApikeyidApikey, &owned(account, id), &encode(&after))?;
    Ok(after)
}

/// Replaces the key's digest: the old full key stops working at once.
pub fn reset_secret_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    digest: &[u8],
) -> StoreResult<ApiKeyRecord> {
    let mut apikey = key_in(tx, account, id)?;
    tx.delete(Table::KeyhashApikeyid, &apikey.key_digest)?;
    claim_digest(tx, digest, &owned(account, id))?;
    apikey.key_digest = digest.to_vec();
    apikey.etag += 1;
    apikey.updated_at = crate::clock::now_millis();
    tx.put(Table::ApikeyidApikey, &owned(account, id), &encode(&apikey))?;
    Ok(apikey)
}

/// Deletes the key, its indexes and memberships; `protected` (the Administrators group)
/// must keep a member. Unknown: `NotFound`.
pub fn delete_in(tx: &dyn Tx, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<()> {
    let guard = protected.map(|group| Protected {
        group,
        field: "apikey_id",
        message: memberships::LAST_ADMIN_DELETED,
    });
    let mut apikey = key_in(tx, account, id)?;
    memberships::leave_all_in(tx, account, KIND_APIKEY, id, &mut apikey.groups, guard)?;
    tx.delete(Table::ApikeyidApikey, &owned(account, id))?;
    tx.delete(Table::KeyhashApikeyid, &apikey.key_digest)?;
    if let Some(owner) = &apikey.owner {
        tx.delete(Table::OwneridApikeyid, &owner_key(account, owner, id))?;
    }
    counts::add_in(tx, account, ENTITY, -1)
}

/// The ids of the keys `owner` owns (read outside a transaction).
pub fn owned_by(engine: &dyn Engine, account: &Id, owner: &Id) -> StoreResult<Vec<Id>> {
    let prefix = key(&[account.as_bytes(), owner.as_bytes()]);
    Ok(keys_with_prefix(engine, Table::OwneridApikeyid, &prefix)?
        .iter()
        .filter_map(|k| tail_id(k))
        .collect())
}

/// Makes a key created for `owner` by a concurrent transaction conflict with this one (see
/// `Tx::watch_prefix`): a user's delete, whose key creates read the user.
pub fn watch_owned_in(tx: &dyn Tx, account: &Id, owner: &Id) -> StoreResult<()> {
    let prefix = key(&[account.as_bytes(), owner.as_bytes()]);
    tx.watch_prefix(Table::OwneridApikeyid, &prefix)
}

/// Deletes the keys `ids` that still exist (the keys of a user being deleted).
pub fn delete_all_in(tx: &dyn Tx, account: &Id, ids: &[Id]) -> StoreResult<()> {
    for id in ids {
        match delete_in(tx, account, id, None) {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl ApiKeyStore for ApiKeys {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<ApiKeyRecord>> {
        read(&*self.engine, Table::ApikeyidApikey, &owned(account, id))
    }

    fn by_digest(&self, digest: &[u8]) -> StoreResult<Option<Arc<ApiKeyRecord>>> {
        let Some(location) = self.engine.get(Table::KeyhashApikeyid, digest)? else {
            return Ok(None);
        };
        if location.len() != 32 {
            return Err(StoreError::Backend("bad key digest index entry".into()));
        }
        let account = Id::from_slice(&location[..16]).expect("16 bytes");
        let id = Id::from_slice(&location[16..]).expect("16 bytes");
        self.decoded
            .read(&*self.engine, Table::ApikeyidApikey, &owned(&account, &id))
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<ApiKeyRecord>> {
        owned_records_in(
            &*self.engine,
            Table::ApikeyidApikey,
            account,
            ENTITY,
            page,
            filters,
        )
    }

    fn create(&self, apikey: ApiKeyRecord) -> StoreResult<Written<ApiKeyRecord>> {
        let stored = transact(&*self.engine, |tx| create_in(tx, &apikey))?;
        Ok(self.written(stored))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut ApiKeyRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, account, id, change))?;
        Ok(self.written(stored))
    }

    fn reset_secret(
        &self,
        account: &Id,
        id: &Id,
        digest: &[u8],
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let stored = transact(&*self.engine, |tx| reset_secret_in(tx, account, id, digest))?;
        Ok(self.written(stored))
    }

    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<ApiKeyRecord>> {
        let stored = transact(&*self.engine, |tx| {
            memberships::change_groups_in::<ApiKeyRecord>(tx, account, id, add, remove, protected)
        })?;
        Ok(self.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| delete_in(tx, account, id, protected))?;
        self.last_login.forget(account, &[*id])?;
        Ok(self.written(()))
    }
}
