//! Applying a checked seed in one transaction (see the parent module).

use super::{AccountPlan, Seed, SeedError};
use crate::ids::{AccountId, GroupId, Id, UserId};
use crate::provision::{plan, AdminPlan};
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::engine::{keys_with_prefix, Table, Tx};
use crate::store::groups::GroupRecord;
use crate::store::keys::{owned_text, tail_id};
use crate::store::users::{email_key, UserRecord};
use crate::store::{Store, StoreError, StoreResult};
use std::collections::BTreeMap;

/// What a run created (a second run of the same file creates nothing).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Summary {
    pub tenants: u32,
    pub groups: u32,
    pub users: u32,
    pub api_keys: u32,
    pub trusted_certificates: u32,
    pub branding_colors: u32,
    pub branding_images: u32,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tenants, {} groups, {} users, {} API keys, {} trusted certificates, {} \
             branding colors, {} branding images",
            self.tenants,
            self.groups,
            self.users,
            self.api_keys,
            self.trusted_certificates,
            self.branding_colors,
            self.branding_images
        )
    }
}

/// An entry's failure inside the transaction: aborts it, and names the entry.
struct Failed(String, String);

/// Applies `seed` to `store` in one transaction and waits until it is durable.
pub async fn apply(store: &Store, seed: &Seed) -> Result<Summary, SeedError> {
    let root = store
        .root_account()
        .map_err(|e| SeedError::Store(e.to_string()))?
        .ok_or_else(|| SeedError::Store("the server has no root account yet".into()))?;
    let root = AccountId::from_id(root);
    // Tenants are matched by name among the root's (read before: engines cannot scan inside
    // a transaction; the transaction then checks what it relies on).
    let mut by_name = BTreeMap::new();
    for k in keys_with_prefix(&*store.engine, Table::ParentidAccountid, root.as_bytes())
        .map_err(|e| SeedError::Store(e.to_string()))?
    {
        let Some(id) = tail_id(&k) else { continue };
        if let Some(a) = store
            .accounts
            .get(&id)
            .map_err(|e| SeedError::Store(e.to_string()))?
        {
            if let Some(name) = a.display_name {
                by_name.insert(name.to_lowercase(), a.id);
            }
        }
    }
    let mut failed: Option<Failed> = None;
    let result = store.transact(|tx| {
        let mut summary = Summary::default();
        for account in &seed.accounts {
            if let Err(e) = apply_account(tx, root, &by_name, account, &mut summary) {
                if let Some(f) = e.1 {
                    failed = Some(f);
                }
                return Err(e.0);
            }
        }
        Ok(summary)
    });
    match result {
        Ok(written) => written
            .durable()
            .await
            .map_err(|e| SeedError::Store(e.to_string())),
        Err(e) => Err(match failed {
            Some(Failed(entry, message)) => SeedError::Entry {
                path: seed.source.clone(),
                entry,
                message,
            },
            None => SeedError::Store(e.to_string()),
        }),
    }
}

/// A store error, and the entry it belongs to when the entry's content caused it.
struct TxError(StoreError, Option<Failed>);

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> TxError {
        TxError(e, None)
    }
}

/// Attributes a store refusal (conflict, invalid) to `entry`; engine failures stay as they are.
fn at<T>(entry: &str, r: StoreResult<T>) -> Result<T, TxError> {
    r.map_err(|e| match e {
        StoreError::Conflict(m) | StoreError::Forbidden(m) => TxError(
            StoreError::Conflict(m.clone()),
            Some(Failed(entry.into(), m)),
        ),
        StoreError::Invalid(field, m) => TxError(
            StoreError::Invalid(field, m.clone()),
            Some(Failed(entry.into(), format!("{field}: {m}"))),
        ),
        other => TxError(other, None),
    })
}

fn refuse(entry: &str, message: String) -> TxError {
    TxError(
        StoreError::Conflict(message.clone()),
        Some(Failed(entry.into(), message)),
    )
}

fn apply_account(
    tx: &dyn Tx,
    root: AccountId,
    tenants: &BTreeMap<String, AccountId>,
    a: &AccountPlan,
    summary: &mut Summary,
) -> Result<(), TxError> {
    let account = match &a.tenant {
        None => root,
        Some(t) => {
            let known = tenants.get(&t.display_name.to_lowercase()).copied();
            match (known, t.id) {
                (Some(have), Some(want)) if have != want => {
                    return Err(refuse(
                        &a.entry,
                        format!(
                            "the tenant named '{}' is account {have}, but its keys were made \
                             for account {want}",
                            t.display_name
                        ),
                    ))
                }
                (Some(have), _) => have,
                (None, id) => {
                    let id = id.unwrap_or_else(AccountId::new);
                    if tx.get(Table::AccountidAccount, id.as_bytes())?.is_none() {
                        at(&a.entry, provision_tenant(tx, root, id, t))?;
                        summary.tenants += 1;
                    }
                    id
                }
            }
        }
    };
    if tx
        .get(Table::AccountidAccount, account.as_bytes())?
        .is_none()
    {
        return Err(StoreError::NotFound("Account").into());
    }
    let mut groups: BTreeMap<String, Id> = BTreeMap::new();
    for name in &a.groups {
        if let Some(id) = group_id(tx, &account, name)? {
            groups.insert(name.clone(), id);
            continue;
        }
        let g = GroupRecord::new(GroupId::new(), account, name);
        at(
            &format!("{}.groups ({name})", a.entry),
            crate::store::groups::insert_in(tx, &g),
        )?;
        groups.insert(name.clone(), g.id.id());
        summary.groups += 1;
    }
    let resolve = |tx: &dyn Tx, entry: &str, names: &[String]| -> Result<Vec<Id>, TxError> {
        let mut ids = Vec::new();
        for name in names {
            match groups
                .get(name)
                .copied()
                .map(Some)
                .unwrap_or(group_id(tx, &account, name)?)
            {
                Some(id) => ids.push(id),
                None => {
                    return Err(refuse(
                        entry,
                        format!("groups: the account has no group named '{name}'"),
                    ))
                }
            }
        }
        Ok(ids)
    };
    for u in &a.users {
        if tx
            .get(Table::EmailUserid, &email_key(&account, &u.email))?
            .is_some()
        {
            continue;
        }
        let mut user = UserRecord::new(account, u.email.clone(), u.status);
        user.username = u.username.clone();
        user.full_name = u.full_name.clone();
        if let Some(hash) = &u.password_hash {
            user.password_hash = Some(hash.clone());
            user.password_changed_time = Some(user.created_at);
        }
        user.email_verified = true;
        user.groups = resolve(tx, &u.entry, &u.groups)?;
        at(&u.entry, crate::store::users::create_in(tx, &user, None))?;
        summary.users += 1;
    }
    for k in &a.keys {
        if k.account != account {
            return Err(refuse(
                &k.entry,
                format!(
                    "key: made for account {}, not for this account ({account})",
                    k.account
                ),
            ));
        }
        if tx.get(Table::KeyhashApikeyid, &k.digest)?.is_some() {
            continue;
        }
        let owner = match &k.owner {
            None => None,
            Some(email) => match tx.get(Table::EmailUserid, &email_key(&account, email))? {
                Some(raw) => Id::from_slice(&raw).map(UserId::from_id),
                None => {
                    return Err(refuse(
                        &k.entry,
                        format!("owner: the account has no user '{email}'"),
                    ))
                }
            },
        };
        let now = crate::clock::now_millis();
        let key = ApiKeyRecord {
            id: k.id,
            account_id: account,
            name: k.name.clone(),
            owner,
            status: k.status,
            key_digest: k.digest.clone(),
            groups: resolve(tx, &k.entry, &k.groups)?,
            created_at: now,
            updated_at: now,
            etag: 1,
        };
        at(&k.entry, crate::store::apikeys::create_in(tx, &key))?;
        summary.api_keys += 1;
    }
    for c in &a.certs {
        if crate::store::certificates::id_by_name_in(tx, &account, &c.name)?.is_some() {
            continue;
        }
        let mut rec = crate::service::certificates::new_record(account, &c.parsed);
        rec.name = c.name.clone();
        rec.service = c.service.clone();
        rec.description = c.description.clone();
        rec.status = c.status;
        at(&c.entry, crate::store::certificates::insert_in(tx, &rec))?;
        summary.trusted_certificates += 1;
    }
    let now = crate::clock::now_millis();
    for (theme, reference, color) in &a.colors {
        if crate::store::branding::set_color_in(tx, &account, *theme, reference, color, now)? {
            summary.branding_colors += 1;
        }
    }
    for i in &a.images {
        let set = crate::store::branding::seed_image_in(
            tx,
            &account,
            i.theme,
            &i.reference,
            &i.bytes,
            i.info,
            now,
        );
        if at(&i.entry, set)? {
            summary.branding_images += 1;
        }
    }
    Ok(())
}

fn group_id(tx: &dyn Tx, account: &AccountId, name: &str) -> StoreResult<Option<Id>> {
    Ok(tx
        .get(Table::GroupnameGroupid, &owned_text(account, name))?
        .and_then(|raw| Id::from_slice(&raw)))
}

fn provision_tenant(
    tx: &dyn Tx,
    root: AccountId,
    id: AccountId,
    t: &super::TenantPlan,
) -> StoreResult<()> {
    let account = AccountRecord {
        id,
        display_name: Some(t.display_name.clone()),
        ..AccountRecord::new(Some(root))
    };
    let provisioned = plan(
        account,
        AdminPlan {
            email: t.admin_email.clone(),
            username: None,
            full_name: None,
            chosen_hash: None,
            status: UserStatus::Active,
        },
    );
    crate::store::accounts::provision_in(tx, &provisioned.new, false)
}
