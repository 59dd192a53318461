//! Users of an account, with their unique email and username indexes.

use super::apikeys;
use super::codec::DecodeCache;
use super::durability::Written;
use super::engine::{read, read_in, transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::identity_providers;
use super::keys::{owned, owned_text};
use super::lastlogin::LastLogin;
use super::memberships::{self, Member, MemberKind, Protected, KIND_USER};
use super::notifications::{self, NotificationRecord};
use super::page::{counts, owned_records_in, Page, PageRequest};
use super::{encode, StoreError, StoreResult};
use crate::ids::{AccountId, Id, UserId};
use crate::status::UserStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const ENTITY: &str = "users";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub address: Option<String>,
    pub phone_number: Option<String>,
    /// Stored as its name, as when it was a `String`.
    pub status: UserStatus,
    /// Encoded `auth::password` hash; never leaves the server.
    pub password_hash: Option<Vec<u8>>,
    pub email_verified: bool,
    pub is_gtc_accepted: bool,
    pub is_marketing_accepted: bool,
    pub is_totp_enabled: bool,
    /// Identity provider ids.
    pub login_profiles: Vec<Id>,
    pub custom_fields: BTreeMap<String, String>,
    /// Group ids; the source of truth for membership (see `groups`).
    pub groups: Vec<Id>,
    pub created_at: i64,
    pub updated_at: i64,
    pub password_changed_time: Option<i64>,
    pub etag: u64,
}

impl UserRecord {
    /// A new user of the account, made now: no password, groups or login profiles yet.
    pub fn new(account_id: AccountId, email: String, status: UserStatus) -> UserRecord {
        let now = crate::clock::now_millis();
        UserRecord {
            id: UserId::new(),
            account_id,
            email,
            username: None,
            full_name: None,
            address: None,
            phone_number: None,
            status,
            password_hash: None,
            email_verified: false,
            is_gtc_accepted: false,
            is_marketing_accepted: false,
            is_totp_enabled: false,
            login_profiles: Vec::new(),
            custom_fields: BTreeMap::new(),
            groups: Vec::new(),
            created_at: now,
            updated_at: now,
            password_changed_time: None,
            etag: 1,
        }
    }
}

impl Filterable for UserRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "email" => vec![self.email.clone()],
            "status" => vec![self.status.to_string()],
            "login_profiles" => self.login_profiles.iter().map(Id::hex).collect(),
            _ => Vec::new(),
        }
    }
}

pub trait UserStore: Send + Sync {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<UserRecord>>;
    /// The same record for authentication, which reads a key's owner on every request: the
    /// record is shared, decoded once per stored version.
    fn get_shared(&self, account: &Id, id: &Id) -> StoreResult<Option<Arc<UserRecord>>>;
    fn by_email(&self, account: &Id, email: &str) -> StoreResult<Option<UserRecord>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<UserRecord>>;
    /// Creates the user in its `groups`; a taken email or username is a conflict.
    /// Inserts the user, with the log entry of the email its creation sends.
    fn create(
        &self,
        user: UserRecord,
        logged_email: Option<&NotificationRecord>,
    ) -> StoreResult<Written<UserRecord>>;
    /// Applies `change` to the stored record (retried on contention, so it must be pure),
    /// bumps `etag` and keeps the indexes in step. Group lists are changed with
    /// `change_groups`, not here.
    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut UserRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<UserRecord>>;
    /// Adds the user to `add` and removes it from `remove`.
    /// `protected` is a group that must keep at least one member.
    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<UserRecord>>;
    /// Deletes the user, its memberships and the API keys it owns.
    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>>;
}

/// The users of every account, kept by any engine.
pub struct Users {
    engine: Arc<dyn Engine>,
    decoded: DecodeCache<UserRecord>,
    last_login: Arc<LastLogin>,
}

impl Users {
    pub fn new(engine: Arc<dyn Engine>, last_login: Arc<LastLogin>) -> Users {
        Users {
            engine,
            decoded: DecodeCache::new(),
            last_login,
        }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

impl Member for UserRecord {
    const KIND: MemberKind = KIND_USER;
    const NAME: &'static str = "User";
    const FIELD: &'static str = "users";
    const TABLE: Table = Table::UseridUser;
    fn groups_mut(&mut self) -> &mut Vec<Id> {
        &mut self.groups
    }
}

/// Index key of an email: emails are unique per account whatever their case.
pub fn email_key(account: &Id, email: &str) -> Vec<u8> {
    owned_text(account, &email.to_lowercase())
}

/// Index key of a username: unique per account whatever their case.
pub fn username_key(account: &Id, username: &str) -> Vec<u8> {
    owned_text(account, &username.to_lowercase())
}

fn email_taken(email: &str) -> StoreError {
    StoreError::Conflict(format!("A user with email '{email}' already exists."))
}

fn username_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("A user with username '{name}' already exists."))
}

fn user_in(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<UserRecord> {
    read_in(tx, Table::UseridUser, &owned(account, id))?.ok_or(StoreError::NotFound("User"))
}

/// Inserts a new user (its group list as it is: callers add memberships with
/// `memberships::add_in`), refusing taken emails and usernames.
pub fn insert_in(tx: &dyn Tx, user: &UserRecord) -> StoreResult<()> {
    let account = &user.account_id;
    // Claimed without a read (see `Tx::claim`): a taken one fails the whole transaction,
    // so nothing written here stays.
    let ek = email_key(account, &user.email);
    tx.claim(
        Table::EmailUserid,
        &ek,
        user.id.as_bytes(),
        email_taken(&user.email),
    )?;
    if let Some(name) = &user.username {
        let uk = username_key(account, name);
        tx.claim(
            Table::UsernameUserid,
            &uk,
            user.id.as_bytes(),
            username_taken(name),
        )?;
    }
    for idp in &user.login_profiles {
        identity_providers::claim_in(tx, account, idp)?;
    }
    tx.put(Table::UseridUser, &owned(account, &user.id), &encode(user))?;
    counts::add_in(tx, account, ENTITY, 1)
}

/// Creates the user in its `groups`, with the log entry of the email its creation sends.
pub fn create_in(
    tx: &dyn Tx,
    user: &UserRecord,
    logged_email: Option<&NotificationRecord>,
) -> StoreResult<UserRecord> {
    if let Some(entry) = logged_email {
        notifications::insert_in(tx, entry)?;
    }
    let account = user.account_id;
    let mut user = user.clone();
    let wanted = std::mem::take(&mut user.groups);
    for group in &wanted {
        memberships::add_in(tx, &account, group, KIND_USER, &user.id, &mut user.groups)?;
    }
    insert_in(tx, &user)?;
    Ok(user)
}

/// Applies `change` to the stored user (see `UserStore::update`).
pub fn update_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    change: &dyn Fn(&mut UserRecord) -> StoreResult<()>,
) -> StoreResult<UserRecord> {
    let before = user_in(tx, account, id)?;
    let mut after = before.clone();
    change(&mut after)?;
    after.groups = before.groups.clone();
    if after.email.to_lowercase() != before.email.to_lowercase() {
        let ek = email_key(account, &after.email);
        if tx.get(Table::EmailUserid, &ek)?.is_some() {
            return Err(email_taken(&after.email));
        }
        tx.delete(Table::EmailUserid, &email_key(account, &before.email))?;
        tx.put(Table::EmailUserid, &ek, id.as_bytes())?;
    }
    let lower = |u: &Option<String>| u.as_ref().map(|s| s.to_lowercase());
    if lower(&after.username) != lower(&before.username) {
        if let Some(name) = &after.username {
            let uk = username_key(account, name);
            if tx.get(Table::UsernameUserid, &uk)?.is_some() {
                return Err(username_taken(name));
            }
            tx.put(Table::UsernameUserid, &uk, id.as_bytes())?;
        }
        if let Some(old) = &before.username {
            tx.delete(Table::UsernameUserid, &username_key(account, old))?;
        }
    }
    for idp in &after.login_profiles {
        if !before.login_profiles.contains(idp) {
            identity_providers::claim_in(tx, account, idp)?;
        }
    }
    after.etag = before.etag + 1;
    after.updated_at = crate::clock::now_millis();
    tx.put(Table::UseridUser, &owned(account, id), &encode(&after))?;
    Ok(after)
}

/// Deletes the user, its memberships and the keys `owned_keys` (those it owns, listed
/// before the transaction with `apikeys::owned_by`; one created since is deleted by
/// `finish_delete`, and one created concurrently conflicts with this transaction). `protected`
/// (the Administrators group) must keep a member.
pub fn delete_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    owned_keys: &[Id],
    protected: Option<Id>,
) -> StoreResult<()> {
    let guard = protected.map(|group| Protected {
        group,
        field: "user_id",
        message: memberships::LAST_ADMIN_DELETED,
    });
    let mut user = user_in(tx, account, id)?;
    memberships::leave_all_in(tx, account, KIND_USER, id, &mut user.groups, guard)?;
    apikeys::watch_owned_in(tx, account, id)?;
    apikeys::delete_all_in(tx, account, owned_keys)?;
    tx.delete(Table::UseridUser, &owned(account, id))?;
    tx.delete(Table::EmailUserid, &email_key(account, &user.email))?;
    if let Some(name) = &user.username {
        tx.delete(Table::UsernameUserid, &username_key(account, name))?;
    }
    counts::add_in(tx, account, ENTITY, -1)
}

/// After a user's `delete_in` committed: deletes the keys made for it between the listing
/// of `owned_keys` and that transaction, and forgets the last-login times of all of them.
pub fn finish_delete(
    engine: &dyn Engine,
    last_login: &LastLogin,
    account: &Id,
    id: &Id,
    owned_keys: Vec<Id>,
) -> StoreResult<()> {
    let late_keys = apikeys::owned_by(engine, account, id)?;
    if !late_keys.is_empty() {
        transact(engine, |tx| apikeys::delete_all_in(tx, account, &late_keys))?;
    }
    let subjects: Vec<Id> = [*id]
        .into_iter()
        .chain(owned_keys)
        .chain(late_keys)
        .collect();
    last_login.forget(account, &subjects)
}

impl UserStore for Users {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<UserRecord>> {
        read(&*self.engine, Table::UseridUser, &owned(account, id))
    }

    fn get_shared(&self, account: &Id, id: &Id) -> StoreResult<Option<Arc<UserRecord>>> {
        self.decoded
            .read(&*self.engine, Table::UseridUser, &owned(account, id))
    }

    fn by_email(&self, account: &Id, email: &str) -> StoreResult<Option<UserRecord>> {
        match self
            .engine
            .get(Table::EmailUserid, &email_key(account, email))?
        {
            Some(raw) => match Id::from_slice(&raw) {
                Some(id) => self.get(account, &id),
                None => Err(StoreError::Backend("bad email index entry".into())),
            },
            None => Ok(None),
        }
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<UserRecord>> {
        owned_records_in(
            &*self.engine,
            Table::UseridUser,
            account,
            ENTITY,
            page,
            filters,
        )
    }

    fn create(
        &self,
        user: UserRecord,
        logged_email: Option<&NotificationRecord>,
    ) -> StoreResult<Written<UserRecord>> {
        let stored = transact(&*self.engine, |tx| create_in(tx, &user, logged_email))?;
        Ok(self.written(stored))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut UserRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<UserRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, account, id, change))?;
        Ok(self.written(stored))
    }

    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<UserRecord>> {
        let stored = transact(&*self.engine, |tx| {
            memberships::change_groups_in::<UserRecord>(tx, account, id, add, remove, protected)
        })?;
        Ok(self.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>> {
        // Owned keys are listed outside the transaction (an engine may not scan inside one).
        let owned_keys = apikeys::owned_by(&*self.engine, account, id)?;
        transact(&*self.engine, |tx| {
            delete_in(tx, account, id, &owned_keys, protected)
        })?;
        finish_delete(&*self.engine, &self.last_login, account, id, owned_keys)?;
        Ok(self.written(()))
    }
}
