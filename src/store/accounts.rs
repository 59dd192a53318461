//! Accounts: the root (aggregator) account made at first start and its sub-tenants.
//! An account's key is its own id; `parentid_accountid` lists an aggregator's children.

use super::apikeys::{ApiKeyRecord, ApiKeyTx};
use super::codec::DecodeCache;
use super::durability::Written;
use super::groups::{GroupRecord, MemberTx, KIND_APIKEY, KIND_USER};
use super::keys::{key, owned_text, tail_id};
use super::page::{scan, Page, PageRequest};
use super::users::{UserRecord, UserTx};
use super::{abort, decode, encode, Commit, StoreError, StoreResult, Trees};
use crate::ids::{AccountId, GroupId, Id, UserId};
use crate::status::AccountStatus;
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use std::collections::BTreeMap;
use std::sync::Arc;

const ROOT_KEY: &[u8] = b"root_account";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: AccountId,
    pub parent_id: Option<AccountId>,
    /// Stored as its name, as when it was a `String`.
    pub status: AccountStatus,
    pub tier: String,
    /// Whether this account may own sub-tenant accounts (an aggregator).
    pub is_aggregator: bool,
    pub display_name: Option<String>,
    pub company: Option<String>,
    pub contact: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub end_market: String,
    pub aliases: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub contract_number: Option<String>,
    pub customer_number: Option<String>,
    pub sales_contact: Option<String>,
    pub expiration: Option<i64>,
    pub expiration_warning_threshold: Option<u32>,
    pub idle_timeout: Option<u32>,
    pub mfa_status: Option<String>,
    pub notification_emails: Vec<String>,
    pub password_minimum_length: u32,
    pub password_recovery_expiration: u32,
    pub reason: Option<String>,
    pub reference_note: Option<String>,
    pub template_id: Option<String>,
    pub admin_group: GroupId,
    pub developers_group: GroupId,
    /// The admin user made with the account (contact of its sub-tenants' `parent_account`).
    pub admin_user: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub upgraded_at: Option<i64>,
    pub etag: u64,
}

impl AccountRecord {
    /// A new, empty, active account (a sub-tenant of `parent_id`, or the root) with the
    /// ids of its `Administrators` and `Developers` groups, which `provision::plan` makes.
    pub fn new(parent_id: Option<AccountId>) -> AccountRecord {
        let now = crate::clock::now_millis();
        AccountRecord {
            id: AccountId::new(),
            parent_id,
            status: AccountStatus::Active,
            tier: "1".into(),
            is_aggregator: false,
            display_name: None,
            company: None,
            contact: None,
            email: None,
            phone_number: None,
            address_line1: None,
            address_line2: None,
            city: None,
            state: None,
            postal_code: None,
            country: None,
            end_market: String::new(),
            aliases: Vec::new(),
            custom_fields: BTreeMap::new(),
            contract_number: None,
            customer_number: None,
            sales_contact: None,
            expiration: None,
            expiration_warning_threshold: None,
            idle_timeout: None,
            mfa_status: None,
            notification_emails: Vec::new(),
            password_minimum_length: 8,
            password_recovery_expiration: 30,
            reason: None,
            reference_note: None,
            template_id: None,
            admin_group: GroupId::new(),
            developers_group: GroupId::new(),
            admin_user: None,
            created_at: now,
            updated_at: now,
            upgraded_at: None,
            etag: 1,
        }
    }
}

/// Everything one account creation writes, committed together.
pub struct NewAccount {
    pub account: AccountRecord,
    pub groups: Vec<GroupRecord>,
    /// The admin user, member of `account.admin_group`.
    pub admin: UserRecord,
    /// The admin's API key, member of `account.admin_group`.
    pub admin_key: ApiKeyRecord,
}

pub trait AccountStore: Send + Sync {
    /// The account made at first start, if the data dir has been bootstrapped.
    fn root(&self) -> StoreResult<Option<Id>>;
    fn get(&self, id: &Id) -> StoreResult<Option<AccountRecord>>;
    /// `get` for authentication and scoping, which read an account on every request: the
    /// record is shared, decoded once per stored version.
    fn get_shared(&self, id: &Id) -> StoreResult<Option<Arc<AccountRecord>>>;
    /// The direct sub-tenants of `parent`.
    fn children(
        &self,
        parent: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&AccountRecord) -> bool>,
    ) -> StoreResult<Page<AccountRecord>>;
    /// Creates an account with its groups, admin user and admin key. With `make_root`, also
    /// records it as the root account (first start).
    fn provision(&self, new: NewAccount, make_root: bool) -> StoreResult<Written<AccountRecord>>;
    /// Applies `change` (retried on contention, so it must be pure), bumps `etag` and keeps
    /// the alias index in step (an alias held by another account is a conflict).
    fn update(
        &self,
        id: &Id,
        change: &dyn Fn(&mut AccountRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<AccountRecord>>;
}

pub struct SledAccounts {
    t: Trees,
    commit: Commit,
    decoded: DecodeCache<AccountRecord>,
}

impl SledAccounts {
    pub fn new(t: Trees, commit: Commit) -> SledAccounts {
        SledAccounts {
            t,
            commit,
            decoded: DecodeCache::new(),
        }
    }
}

impl AccountStore for SledAccounts {
    fn root(&self) -> StoreResult<Option<Id>> {
        Ok(self
            .t
            .get()?
            .meta
            .get(ROOT_KEY)?
            .and_then(|raw| Id::from_slice(&raw)))
    }

    fn get(&self, id: &Id) -> StoreResult<Option<AccountRecord>> {
        self.t
            .get()?
            .accountid_account
            .get(id.as_bytes())?
            .map(|raw| decode(&raw))
            .transpose()
    }

    fn get_shared(&self, id: &Id) -> StoreResult<Option<Arc<AccountRecord>>> {
        self.decoded
            .read(&self.t.get()?.accountid_account, id.as_bytes())
    }

    fn children(
        &self,
        parent: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&AccountRecord) -> bool>,
    ) -> StoreResult<Page<AccountRecord>> {
        scan(
            &self.t.get()?.parentid_accountid,
            parent.as_bytes(),
            page,
            keep.is_some(),
            |k, _| match tail_id(k) {
                Some(child) => self.get(&child),
                None => Ok(None),
            },
            |a| keep.map(|f| f(a)).unwrap_or(true),
            || {
                Ok(self
                    .t
                    .get()?
                    .parentid_accountid
                    .scan_prefix(parent.as_bytes())
                    .count() as u64)
            },
        )
    }

    fn provision(&self, new: NewAccount, make_root: bool) -> StoreResult<Written<AccountRecord>> {
        let t = &self.t.get()?;
        let account_id = new.account.id;
        (
            &t.meta,
            &t.accountid_account,
            &t.parentid_accountid,
            &t.alias_accountid,
            &t.groupid_group,
            &t.groupname_groupid,
            &t.groupid_memberid,
            &t.userid_user,
            &t.email_userid,
            &t.username_userid,
            &t.apikeyid_apikey,
            &t.keyhash_apikeyid,
            &t.ownerid_apikeyid,
            &t.account_counts,
        )
            .transaction(
                |(
                    meta,
                    accounts,
                    parents,
                    aliases,
                    groups,
                    names,
                    g2m,
                    users,
                    emails,
                    usernames,
                    keys,
                    hashes,
                    owners,
                    counts_tx,
                )| {
                    if make_root && meta.get(ROOT_KEY)?.is_some() {
                        return abort(StoreError::Conflict(
                            "The root account exists already.".into(),
                        ));
                    }
                    for alias in &new.account.aliases {
                        if aliases.get(alias.as_bytes())?.is_some() {
                            return abort(StoreError::Conflict(format!(
                                "The alias '{alias}' is already in use."
                            )));
                        }
                        aliases.insert(alias.as_bytes(), account_id.as_bytes())?;
                    }
                    accounts.insert(account_id.as_bytes(), encode(&new.account))?;
                    if let Some(parent) = &new.account.parent_id {
                        parents.insert(key(&[parent.as_bytes(), account_id.as_bytes()]), &[])?;
                    }
                    for group in &new.groups {
                        groups.insert(super::keys::owned(&account_id, &group.id), encode(group))?;
                        names.insert(owned_text(&account_id, &group.name), group.id.as_bytes())?;
                        super::page::counts::add(counts_tx, &account_id, "groups", 1)?;
                    }
                    let mtx = MemberTx { groups, g2m };
                    let admin_group = new.account.admin_group;
                    let mut admin = new.admin.clone();
                    admin.groups.clear();
                    mtx.add(
                        &account_id,
                        &admin_group,
                        KIND_USER,
                        &admin.id,
                        &mut admin.groups,
                    )?;
                    UserTx {
                        users,
                        emails,
                        usernames,
                        counts: counts_tx,
                    }
                    .insert(&admin)?;
                    let mut admin_key = new.admin_key.clone();
                    admin_key.groups.clear();
                    mtx.add(
                        &account_id,
                        &admin_group,
                        KIND_APIKEY,
                        &admin_key.id,
                        &mut admin_key.groups,
                    )?;
                    ApiKeyTx {
                        keys,
                        hashes,
                        owners,
                        counts: counts_tx,
                    }
                    .insert(&admin_key)?;
                    if make_root {
                        meta.insert(ROOT_KEY, account_id.as_bytes())?;
                    }
                    Ok(())
                },
            )?;
        Ok(self.commit.written(new.account))
    }

    fn update(
        &self,
        id: &Id,
        change: &dyn Fn(&mut AccountRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<AccountRecord>> {
        let t = &self.t.get()?;
        let stored =
            (&t.accountid_account, &t.alias_accountid).transaction(|(accounts, aliases)| {
                let Some(raw) = accounts.get(id.as_bytes())? else {
                    return abort(StoreError::NotFound("Account"));
                };
                let before: AccountRecord =
                    decode(&raw).map_err(ConflictableTransactionError::Abort)?;
                let mut after = before.clone();
                change(&mut after).map_err(ConflictableTransactionError::Abort)?;
                for alias in &before.aliases {
                    if !after.aliases.contains(alias) {
                        aliases.remove(alias.as_bytes())?;
                    }
                }
                for alias in &after.aliases {
                    if before.aliases.contains(alias) {
                        continue;
                    }
                    if aliases.get(alias.as_bytes())?.is_some() {
                        return abort(StoreError::Conflict(format!(
                            "The alias '{alias}' is already in use."
                        )));
                    }
                    aliases.insert(alias.as_bytes(), id.as_bytes())?;
                }
                after.etag = before.etag + 1;
                after.updated_at = crate::clock::now_millis();
                accounts.insert(id.as_bytes(), encode(&after))?;
                Ok(after)
            })?;
        Ok(self.commit.written(stored))
    }
}
