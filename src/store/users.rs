//! Users of an account, with their unique email and username indexes.

use super::codec::DecodeCache;
use super::durability::Written;
use super::groups::{Member, MemberTx, Protected, KIND_USER};
use super::keys::{key, owned, owned_text};
use super::lastlogin::LastLogin;
use super::notifications::{self, NotificationRecord};
use super::page::{counts, owned_records, Page, PageRequest};
use super::{abort, decode, encode, Commit, StoreError, StoreResult, Trees, TxResult};
use crate::ids::{AccountId, Id, UserId};
use crate::status::UserStatus;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
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
        keep: Option<&dyn Fn(&UserRecord) -> bool>,
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

pub struct SledUsers {
    t: Trees,
    commit: Commit,
    decoded: DecodeCache<UserRecord>,
    last_login: Arc<LastLogin>,
}

impl SledUsers {
    pub fn new(t: Trees, commit: Commit, last_login: Arc<LastLogin>) -> SledUsers {
        SledUsers {
            t,
            commit,
            decoded: DecodeCache::new(),
            last_login,
        }
    }
}

impl Member for UserRecord {
    const KIND: u8 = KIND_USER;
    const NAME: &'static str = "User";
    const FIELD: &'static str = "users";
    fn groups_mut(&mut self) -> &mut Vec<Id> {
        &mut self.groups
    }
}

/// Index key of an email: emails are unique per account whatever their case.
pub fn email_key(account: &Id, email: &str) -> Vec<u8> {
    owned_text(account, &email.to_lowercase())
}

fn username_key(account: &Id, username: &str) -> Vec<u8> {
    owned_text(account, &username.to_lowercase())
}

/// The trees a user insert touches; shared with account provisioning.
pub struct UserTx<'a> {
    pub users: &'a TransactionalTree,
    pub emails: &'a TransactionalTree,
    pub usernames: &'a TransactionalTree,
    pub counts: &'a TransactionalTree,
}

impl UserTx<'_> {
    /// Inserts a new user (without group memberships), refusing taken emails/usernames.
    pub fn insert(&self, user: &UserRecord) -> TxResult<()> {
        let account = &user.account_id;
        let ek = email_key(account, &user.email);
        if self.emails.get(&ek)?.is_some() {
            return abort(StoreError::Conflict(format!(
                "A user with email '{}' already exists.",
                user.email
            )));
        }
        if let Some(name) = &user.username {
            let uk = username_key(account, name);
            if self.usernames.get(&uk)?.is_some() {
                return abort(StoreError::Conflict(format!(
                    "A user with username '{name}' already exists."
                )));
            }
            self.usernames.insert(uk, user.id.as_bytes())?;
        }
        self.emails.insert(ek, user.id.as_bytes())?;
        self.users.insert(owned(account, &user.id), encode(user))?;
        counts::add(self.counts, account, ENTITY, 1)?;
        Ok(())
    }
}

fn tx_user(users: &TransactionalTree, account: &Id, id: &Id) -> TxResult<UserRecord> {
    match users.get(owned(account, id))? {
        Some(raw) => decode(&raw).map_err(ConflictableTransactionError::Abort),
        None => abort(StoreError::NotFound("User")),
    }
}

impl UserStore for SledUsers {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<UserRecord>> {
        super::codec::read(&self.t.get()?.userid_user, owned(account, id))
    }

    fn get_shared(&self, account: &Id, id: &Id) -> StoreResult<Option<Arc<UserRecord>>> {
        self.decoded
            .read(&self.t.get()?.userid_user, &owned(account, id))
    }

    fn by_email(&self, account: &Id, email: &str) -> StoreResult<Option<UserRecord>> {
        match self.t.get()?.email_userid.get(email_key(account, email))? {
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
        keep: Option<&dyn Fn(&UserRecord) -> bool>,
    ) -> StoreResult<Page<UserRecord>> {
        owned_records(
            &self.t.get()?.userid_user,
            &self.t.get()?.account_counts,
            account,
            ENTITY,
            page,
            keep,
        )
    }

    fn create(
        &self,
        user: UserRecord,
        logged_email: Option<&NotificationRecord>,
    ) -> StoreResult<Written<UserRecord>> {
        let t = &self.t.get()?;
        let account = user.account_id;
        let stored = (
            &t.userid_user,
            &t.email_userid,
            &t.username_userid,
            &t.account_counts,
            &t.groupid_group,
            &t.groupid_memberid,
            &t.notificationid_notification,
        )
            .transaction(|(users, emails, usernames, counts_tx, groups, g2m, log)| {
                if let Some(entry) = logged_email {
                    notifications::insert(log, counts_tx, entry)?;
                }
                let mut user = user.clone();
                let wanted = std::mem::take(&mut user.groups);
                let mtx = MemberTx { groups, g2m };
                for group in &wanted {
                    mtx.add(&account, group, KIND_USER, &user.id, &mut user.groups)?;
                }
                UserTx {
                    users,
                    emails,
                    usernames,
                    counts: counts_tx,
                }
                .insert(&user)?;
                Ok(user)
            })?;
        Ok(self.commit.written(stored))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut UserRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<UserRecord>> {
        let t = &self.t.get()?;
        let stored = (&t.userid_user, &t.email_userid, &t.username_userid).transaction(
            |(users, emails, usernames)| {
                let before = tx_user(users, account, id)?;
                let mut after = before.clone();
                change(&mut after).map_err(ConflictableTransactionError::Abort)?;
                after.groups = before.groups.clone();
                if after.email.to_lowercase() != before.email.to_lowercase() {
                    let ek = email_key(account, &after.email);
                    if emails.get(&ek)?.is_some() {
                        return abort(StoreError::Conflict(format!(
                            "A user with email '{}' already exists.",
                            after.email
                        )));
                    }
                    emails.remove(email_key(account, &before.email))?;
                    emails.insert(ek, id.as_bytes())?;
                }
                let lower = |u: &Option<String>| u.as_ref().map(|s| s.to_lowercase());
                if lower(&after.username) != lower(&before.username) {
                    if let Some(name) = &after.username {
                        let uk = username_key(account, name);
                        if usernames.get(&uk)?.is_some() {
                            return abort(StoreError::Conflict(format!(
                                "A user with username '{name}' already exists."
                            )));
                        }
                        usernames.insert(uk, id.as_bytes())?;
                    }
                    if let Some(old) = &before.username {
                        usernames.remove(username_key(account, old))?;
                    }
                }
                after.etag = before.etag + 1;
                after.updated_at = crate::clock::now_millis();
                users.insert(owned(account, id), encode(&after))?;
                Ok(after)
            },
        )?;
        Ok(self.commit.written(stored))
    }

    fn change_groups(
        &self,
        account: &Id,
        id: &Id,
        add: &[Id],
        remove: &[Id],
        protected: Option<Id>,
    ) -> StoreResult<Written<UserRecord>> {
        let t = &self.t.get()?;
        let stored =
            super::groups::change_groups(t, &t.userid_user, account, id, add, remove, protected)?;
        Ok(self.commit.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id, protected: Option<Id>) -> StoreResult<Written<()>> {
        use super::apikeys::ApiKeyRecord;
        let guard = protected.map(|group| Protected {
            group,
            field: "user_id",
            message: super::groups::LAST_ADMIN_DELETED,
        });
        // Owned keys are listed outside the transaction (sled cannot scan inside one); a key
        // created for this user meanwhile is deleted right after, by `delete_owned_by`.
        {
            let owned_keys: Vec<Id> = self
                .t
                .get()?
                .ownerid_apikeyid
                .scan_prefix(key(&[account.as_bytes(), id.as_bytes()]))
                .keys()
                .filter_map(|k| k.ok().and_then(|k| super::keys::tail_id(&k)))
                .collect();
            let t = &self.t.get()?;
            let done = (
                &t.userid_user,
                &t.email_userid,
                &t.username_userid,
                &t.account_counts,
                &t.groupid_group,
                &t.groupid_memberid,
                &t.apikeyid_apikey,
                &t.keyhash_apikeyid,
                &t.ownerid_apikeyid,
            )
                .transaction(
                    |(users, emails, usernames, counts_tx, groups, g2m, keys, hashes, owners)| {
                        let mut user = tx_user(users, account, id)?;
                        let mtx = MemberTx { groups, g2m };
                        mtx.leave_all(account, KIND_USER, id, &mut user.groups, guard)?;
                        for key_id in &owned_keys {
                            let Some(raw) = keys.get(owned(account, key_id))? else {
                                continue;
                            };
                            let mut apikey: ApiKeyRecord =
                                decode(&raw).map_err(ConflictableTransactionError::Abort)?;
                            mtx.leave_all(
                                account,
                                super::groups::KIND_APIKEY,
                                key_id,
                                &mut apikey.groups,
                                None,
                            )?;
                            keys.remove(owned(account, key_id))?;
                            hashes.remove(&apikey.key_digest[..])?;
                            owners.remove(key(&[
                                account.as_bytes(),
                                id.as_bytes(),
                                key_id.as_bytes(),
                            ]))?;
                            counts::add(counts_tx, account, super::apikeys::ENTITY, -1)?;
                        }
                        users.remove(owned(account, id))?;
                        emails.remove(email_key(account, &user.email))?;
                        if let Some(name) = &user.username {
                            usernames.remove(username_key(account, name))?;
                        }
                        counts::add(counts_tx, account, ENTITY, -1)?;
                        Ok(())
                    },
                );
            done?;
            let t = self.t.get()?;
            let late_keys = super::apikeys::delete_owned_by(&t, account, id)?;
            let subjects: Vec<Id> = [*id]
                .into_iter()
                .chain(owned_keys)
                .chain(late_keys)
                .collect();
            self.last_login.forget(account, &subjects)?;
            Ok(self.commit.written(()))
        }
    }
}
