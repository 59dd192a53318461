//! Identity providers (federated login modules) of an account.
//!
//! Names are not unique (the spec lists no 409 for these operations), so there is no name
//! index: one record table and the per-account counter. The first store on the engine
//! boundary (`engine`): it names no engine, and runs on sled and in memory alike.

use super::durability::Written;
use super::engine::{transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::keys::owned;
use super::page::{counts, owned_records_in, Page, PageRequest};
use super::{decode, encode, StoreError, StoreResult};
use crate::ids::{AccountId, Id, IdentityProviderId};
use crate::status::IdentityProviderStatus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const ENTITY: &str = "identity_providers";

/// SAML2 settings as stored. The assertion endpoint is not stored: it follows the
/// configured public URL.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Saml2Record {
    pub idp_entity_id: Option<String>,
    pub sso_endpoint: Option<String>,
    pub slo_endpoint: Option<String>,
    /// Normalised PEM, one certificate each.
    pub idp_x509_certs: Vec<String>,
    pub sp_entity_id: String,
    /// The generated service-provider certificate (PEM); its key is never kept.
    pub sp_x509_cert: Option<String>,
    /// The base64 metadata document as uploaded.
    pub entity_descriptor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityProviderRecord {
    pub id: IdentityProviderId,
    pub account_id: AccountId,
    pub name: String,
    pub description: Option<String>,
    /// NATIVE, MBED, SAML2 or OIDC; the API creates only SAML2.
    pub kind: String,
    /// Stored as its name, as when it was a `String`.
    pub status: IdentityProviderStatus,
    pub saml2: Saml2Record,
    pub created_at: i64,
    pub updated_at: i64,
    pub etag: u64,
}

impl Filterable for IdentityProviderRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "name" => vec![self.name.clone()],
            "type" => vec![self.kind.clone()],
            "status" => vec![self.status.to_string()],
            _ => Vec::new(),
        }
    }
}

pub trait IdentityProviderStore: Send + Sync {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<IdentityProviderRecord>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<IdentityProviderRecord>>;
    fn create(&self, idp: IdentityProviderRecord) -> StoreResult<Written<IdentityProviderRecord>>;
    /// Applies `change` (retried on contention, so it must be pure), bumps `etag` and
    /// `updated_at`. Identity fields (`id`, `account_id`, `created_at`) are kept.
    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut IdentityProviderRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<IdentityProviderRecord>>;
    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>>;
}

/// The identity providers of every account, kept by any engine.
pub struct IdentityProviders {
    engine: Arc<dyn Engine>,
}

impl IdentityProviders {
    pub fn new(engine: Arc<dyn Engine>) -> IdentityProviders {
        IdentityProviders { engine }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

fn read(raw: Option<Vec<u8>>) -> StoreResult<Option<IdentityProviderRecord>> {
    raw.map(|raw| decode(&raw)).transpose()
}

/// The provider's use stamp: it changes whenever a user is given the provider as a login
/// profile. The in-use check of a delete scans the users outside its transaction (an
/// engine may not scan inside one); the delete then commits only if the stamp it read
/// before that scan is unchanged, so a user given the provider meanwhile is never left
/// naming a deleted provider.
pub fn stamp(engine: &dyn Engine, account: &Id, id: &Id) -> StoreResult<u64> {
    Ok(engine
        .get(Table::IdpidStamp, &owned(account, id))?
        .map_or(0, |v| read_u64(&v)))
}

fn read_u64(raw: &[u8]) -> u64 {
    raw.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// Gives a user the provider `id` as a login profile, inside the user's write: 400 on
/// `login_profiles` when it does not exist (deleted since the request's checks), and bumps
/// its use stamp.
pub fn claim_in(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<()> {
    let k = owned(account, id);
    if tx.get(Table::IdpidIdp, &k)?.is_none() {
        return Err(StoreError::Invalid(
            "login_profiles",
            format!("Identity provider {id} does not exist."),
        ));
    }
    let now = tx.get(Table::IdpidStamp, &k)?.map_or(0, |v| read_u64(&v));
    tx.put(Table::IdpidStamp, &k, &(now + 1).to_be_bytes())
}

/// Deletes the provider if its use stamp is still `seen` (read before the in-use scan);
/// false, changing nothing, when a user was given it since. Unknown: `NotFound`.
pub fn delete_unused_in(tx: &dyn Tx, account: &Id, id: &Id, seen: u64) -> StoreResult<bool> {
    let k = owned(account, id);
    if tx.get(Table::IdpidIdp, &k)?.is_none() {
        return Err(StoreError::NotFound("Identity provider"));
    }
    let now = tx.get(Table::IdpidStamp, &k)?.map_or(0, |v| read_u64(&v));
    if now != seen {
        return Ok(false);
    }
    tx.delete(Table::IdpidIdp, &k)?;
    tx.delete(Table::IdpidStamp, &k)?;
    counts::add_in(tx, account, ENTITY, -1)?;
    Ok(true)
}

/// Inserts a new provider (409 if its id is taken).
pub fn create_in(tx: &dyn Tx, idp: &IdentityProviderRecord) -> StoreResult<()> {
    let k = owned(&idp.account_id, &idp.id);
    if tx.get(Table::IdpidIdp, &k)?.is_some() {
        return Err(StoreError::Conflict(
            "This identity provider already exists.".into(),
        ));
    }
    tx.put(Table::IdpidIdp, &k, &encode(idp))?;
    counts::add_in(tx, &idp.account_id, ENTITY, 1)
}

/// Applies `change` to the stored provider (see `IdentityProviderStore::update`).
pub fn update_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    change: &dyn Fn(&mut IdentityProviderRecord) -> StoreResult<()>,
) -> StoreResult<IdentityProviderRecord> {
    let k = owned(account, id);
    let before =
        read(tx.get(Table::IdpidIdp, &k)?)?.ok_or(StoreError::NotFound("Identity provider"))?;
    let mut after = before.clone();
    change(&mut after)?;
    after.id = before.id;
    after.account_id = before.account_id;
    after.created_at = before.created_at;
    after.etag = before.etag + 1;
    after.updated_at = crate::clock::now_millis();
    tx.put(Table::IdpidIdp, &k, &encode(&after))?;
    Ok(after)
}

impl IdentityProviderStore for IdentityProviders {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<IdentityProviderRecord>> {
        read(self.engine.get(Table::IdpidIdp, &owned(account, id))?)
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<IdentityProviderRecord>> {
        owned_records_in(
            &*self.engine,
            Table::IdpidIdp,
            account,
            ENTITY,
            page,
            filters,
        )
    }

    fn create(&self, idp: IdentityProviderRecord) -> StoreResult<Written<IdentityProviderRecord>> {
        transact(&*self.engine, |tx| create_in(tx, &idp))?;
        Ok(self.written(idp))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut IdentityProviderRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<IdentityProviderRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, account, id, change))?;
        Ok(self.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>> {
        let k = owned(account, id);
        transact(&*self.engine, |tx| {
            if tx.get(Table::IdpidIdp, &k)?.is_none() {
                return Err(StoreError::NotFound("Identity provider"));
            }
            tx.delete(Table::IdpidIdp, &k)?;
            counts::add_in(tx, account, ENTITY, -1)
        })?;
        Ok(self.written(()))
    }
}

/// The store's behaviour, the same on every engine.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Order;

    fn record(account: AccountId, name: &str) -> IdentityProviderRecord {
        IdentityProviderRecord {
            id: IdentityProviderId::new(),
            account_id: account,
            name: name.into(),
            description: None,
            kind: "SAML2".into(),
            status: IdentityProviderStatus::Active,
            saml2: Saml2Record::default(),
            created_at: 0,
            updated_at: 0,
            etag: 1,
        }
    }

    fn page(limit: usize, after: Option<Id>, order: Order) -> PageRequest {
        PageRequest {
            limit,
            after,
            order,
            want_total: true,
        }
    }

    /// Runs `check` on a store over each engine (PostgreSQL when `IAMD_TEST_PG_URL` is set).
    fn on_every_engine(check: impl Fn(&IdentityProviders)) {
        for subject in crate::store::conformance::each_engine() {
            check(&IdentityProviders::new(subject.store.engine.clone()));
        }
    }

    fn names(p: &Page<IdentityProviderRecord>) -> Vec<String> {
        p.items.iter().map(|i| i.name.clone()).collect()
    }

    #[test]
    fn records_pages_and_counts_are_kept_per_account() {
        on_every_engine(|store| {
            let (a, b) = (AccountId::new(), AccountId::new());
            let made: Vec<_> = (0..5)
                .map(|i| {
                    let r = record(a, &format!("p{i}"));
                    let _ = store.create(r.clone()).unwrap();
                    r
                })
                .collect();
            let _ = store.create(record(b, "other")).unwrap();
            let again = store.create(made[0].clone());
            assert!(matches!(again, Err(StoreError::Conflict(_))));

            let first = store.list(&a, &page(2, None, Order::Asc), &[]).unwrap();
            assert_eq!(names(&first), ["p0", "p1"]);
            assert!(first.has_more);
            assert_eq!(
                first.total,
                Some(5),
                "the other account's record is not counted"
            );
            let next = store
                .list(&a, &page(2, Some(*made[1].id), Order::Asc), &[])
                .unwrap();
            assert_eq!(names(&next), ["p2", "p3"]);
            let back = store
                .list(&a, &page(10, Some(*made[2].id), Order::Desc), &[])
                .unwrap();
            assert_eq!(names(&back), ["p1", "p0"]);
            assert!(!back.has_more);
            let odd = [Filter {
                field: "name",
                op: crate::store::filter::Op::In,
                values: vec!["p1".into(), "p3".into()],
            }];
            let filtered = store.list(&a, &page(1, None, Order::Asc), &odd).unwrap();
            assert_eq!(
                (names(&filtered), filtered.total),
                (vec!["p1".into()], Some(2))
            );

            assert!(
                store.get(&b, &made[0].id).unwrap().is_none(),
                "tenant key space"
            );
            assert!(matches!(
                store.delete(&b, &made[0].id),
                Err(StoreError::NotFound(_))
            ));
            let _ = store.delete(&a, &made[0].id).unwrap();
            assert!(store.get(&a, &made[0].id).unwrap().is_none());
            let left = store.list(&a, &page(10, None, Order::Asc), &[]).unwrap();
            assert_eq!(left.total, Some(4));
        });
    }

    #[test]
    fn an_update_that_fails_changes_nothing() {
        on_every_engine(|store| {
            let a = AccountId::new();
            let r = record(a, "before");
            let _ = store.create(r.clone()).unwrap();
            let failed = store.update(&a, &r.id, &|rec| {
                rec.name = "half-done".into();
                Err(StoreError::Invalid("name", "no".into()))
            });
            assert!(matches!(failed, Err(StoreError::Invalid("name", _))));
            let kept = store.get(&a, &r.id).unwrap().unwrap();
            assert_eq!((kept.name.as_str(), kept.etag), ("before", 1));

            let _ = store
                .update(&a, &r.id, &|rec| {
                    rec.name = "after".into();
                    rec.id = IdentityProviderId::new();
                    Ok(())
                })
                .unwrap();
            let changed = store.get(&a, &r.id).unwrap().unwrap();
            assert_eq!((changed.name.as_str(), changed.etag), ("after", 2));
            assert_eq!(changed.id, r.id, "identity fields are kept");
        });
    }

    #[test]
    fn a_write_is_durable_when_its_written_resolves() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        on_every_engine(|store| {
            let r = record(AccountId::new(), "durable");
            let got = runtime.block_on(store.create(r.clone()).unwrap().durable());
            assert_eq!(got.unwrap().id, r.id);
        });
    }
}
