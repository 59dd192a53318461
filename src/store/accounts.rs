//! Accounts: the root (aggregator) account made at first start and its sub-tenants.
//! An account's key is its own id; `parentid_accountid` lists an aggregator's children.

use super::apikeys::{self, ApiKeyRecord};
use super::codec::DecodeCache;
use super::durability::Written;
use super::engine::{keys_with_prefix, read, read_in, transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::groups;
use super::keys::{key, tail_id};
use super::memberships::{self, GroupRecord, KIND_APIKEY, KIND_USER};
use super::page::{scan, Page, PageRequest};
use super::users::{self, UserRecord};
use super::{encode, StoreError, StoreResult};
use crate::ids::{AccountId, GroupId, Id, UserId};
use crate::status::AccountStatus;
use serde::{Deserialize, Serialize};
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

impl Filterable for AccountRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        let text = |v: &Option<String>| v.iter().cloned().collect();
        match field {
            "id" => vec![self.id.hex()],
            "status" => vec![self.status.to_string()],
            "tier" => vec![self.tier.clone()],
            "parent" => self.parent_id.iter().map(|p| p.hex()).collect(),
            "end_market" => vec![self.end_market.clone()],
            "country" => text(&self.country),
            _ => Vec::new(),
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
        filters: &[Filter],
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

/// The accounts, kept by any engine.
pub struct Accounts {
    engine: Arc<dyn Engine>,
    decoded: DecodeCache<AccountRecord>,
}

impl Accounts {
    pub fn new(engine: Arc<dyn Engine>) -> Accounts {
        Accounts {
            engine,
            decoded: DecodeCache::new(),
        }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

fn alias_taken(alias: &str) -> StoreError {
    StoreError::Conflict(format!("The alias '{alias}' is already in use."))
}

/// Creates an account with its groups, admin user and admin key (see
/// `AccountStore::provision`).
pub fn provision_in(tx: &dyn Tx, new: &NewAccount, make_root: bool) -> StoreResult<()> {
    let account_id = new.account.id;
    if make_root && tx.get(Table::Meta, ROOT_KEY)?.is_some() {
        return Err(StoreError::Conflict(
            "The root account exists already.".into(),
        ));
    }
    for alias in &new.account.aliases {
        if tx.get(Table::AliasAccountid, alias.as_bytes())?.is_some() {
            return Err(alias_taken(alias));
        }
        tx.put(
            Table::AliasAccountid,
            alias.as_bytes(),
            account_id.as_bytes(),
        )?;
    }
    tx.put(
        Table::AccountidAccount,
        account_id.as_bytes(),
        &encode(&new.account),
    )?;
    if let Some(parent) = &new.account.parent_id {
        tx.put(
            Table::ParentidAccountid,
            &key(&[parent.as_bytes(), account_id.as_bytes()]),
            &[],
        )?;
    }
    for group in &new.groups {
        groups::insert_in(tx, group)?;
    }
    let admin_group = new.account.admin_group;
    let mut admin = new.admin.clone();
    admin.groups.clear();
    memberships::add_in(
        tx,
        &account_id,
        &admin_group,
        KIND_USER,
        &admin.id,
        &mut admin.groups,
    )?;
    users::insert_in(tx, &admin)?;
    let mut admin_key = new.admin_key.clone();
    admin_key.groups.clear();
    memberships::add_in(
        tx,
        &account_id,
        &admin_group,
        KIND_APIKEY,
        &admin_key.id,
        &mut admin_key.groups,
    )?;
    apikeys::insert_in(tx, &admin_key)?;
    if make_root {
        tx.put(Table::Meta, ROOT_KEY, account_id.as_bytes())?;
    }
    Ok(())
}

/// Applies `change` to the stored account (see `AccountStore::update`).
pub fn update_in(
    tx: &dyn Tx,
    id: &Id,
    change: &dyn Fn(&mut AccountRecord) -> StoreResult<()>,
) -> StoreResult<AccountRecord> {
    let before: AccountRecord = read_in(tx, Table::AccountidAccount, id.as_bytes())?
        .ok_or(StoreError::NotFound("Account"))?;
    let mut after = before.clone();
    change(&mut after)?;
    for alias in &before.aliases {
        if !after.aliases.contains(alias) {
            tx.delete(Table::AliasAccountid, alias.as_bytes())?;
        }
    }
    for alias in &after.aliases {
        if before.aliases.contains(alias) {
            continue;
        }
        if tx.get(Table::AliasAccountid, alias.as_bytes())?.is_some() {
            return Err(alias_taken(alias));
        }
        tx.put(Table::AliasAccountid, alias.as_bytes(), id.as_bytes())?;
    }
    after.etag = before.etag + 1;
    after.updated_at = crate::clock::now_millis();
    tx.put(Table::AccountidAccount, id.as_bytes(), &encode(&after))?;
    Ok(after)
}

impl AccountStore for Accounts {
    fn root(&self) -> StoreResult<Option<Id>> {
        Ok(self
            .engine
            .get(Table::Meta, ROOT_KEY)?
            .and_then(|raw| Id::from_slice(&raw)))
    }

    fn get(&self, id: &Id) -> StoreResult<Option<AccountRecord>> {
        read(&*self.engine, Table::AccountidAccount, id.as_bytes())
    }

    fn get_shared(&self, id: &Id) -> StoreResult<Option<Arc<AccountRecord>>> {
        self.decoded
            .read(&*self.engine, Table::AccountidAccount, id.as_bytes())
    }

    fn children(
        &self,
        parent: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<AccountRecord>> {
        let engine = &*self.engine;
        scan(
            engine,
            Table::ParentidAccountid,
            parent.as_bytes(),
            page,
            !filters.is_empty(),
            |k, _| match tail_id(k) {
                Some(child) => self.get(&child),
                None => Ok(None),
            },
            |a: &AccountRecord| a.matches(filters),
            || {
                let prefix = parent.as_bytes();
                Ok(keys_with_prefix(engine, Table::ParentidAccountid, prefix)?.len() as u64)
            },
        )
    }

    fn provision(&self, new: NewAccount, make_root: bool) -> StoreResult<Written<AccountRecord>> {
        transact(&*self.engine, |tx| provision_in(tx, &new, make_root))?;
        Ok(self.written(new.account))
    }

    fn update(
        &self,
        id: &Id,
        change: &dyn Fn(&mut AccountRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<AccountRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, id, change))?;
        Ok(self.written(stored))
    }
}
