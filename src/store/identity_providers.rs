//! Identity providers (federated login modules) of an account.
//!
//! Names are not unique (the spec lists no 409 for these operations), so there is no name
//! index: one record tree and the per-account counter.

use super::durability::Written;
use super::keys::owned;
use super::page::{counts, owned_records, Page, PageRequest};
use super::{abort, decode, encode, Commit, StoreError, StoreResult, Trees};
use crate::ids::{AccountId, Id, IdentityProviderId};
use crate::status::IdentityProviderStatus;
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

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

pub trait IdentityProviderStore: Send + Sync {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<IdentityProviderRecord>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&IdentityProviderRecord) -> bool>,
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

pub struct SledIdentityProviders {
    t: Trees,
    commit: Commit,
}

impl SledIdentityProviders {
    pub fn new(t: Trees, commit: Commit) -> SledIdentityProviders {
        SledIdentityProviders { t, commit }
    }
}

impl IdentityProviderStore for SledIdentityProviders {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<IdentityProviderRecord>> {
        super::codec::read(&self.t.get()?.idpid_idp, owned(account, id))
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&IdentityProviderRecord) -> bool>,
    ) -> StoreResult<Page<IdentityProviderRecord>> {
        owned_records(
            &self.t.get()?.idpid_idp,
            &self.t.get()?.account_counts,
            account,
            ENTITY,
            page,
            keep,
        )
    }

    fn create(&self, idp: IdentityProviderRecord) -> StoreResult<Written<IdentityProviderRecord>> {
        let t = &self.t.get()?;
        let account = idp.account_id;
        (&t.idpid_idp, &t.account_counts).transaction(|(idps, counts_tx)| {
            let k = owned(&account, &idp.id);
            if idps.get(&k)?.is_some() {
                return abort(StoreError::Conflict(
                    "This identity provider already exists.".into(),
                ));
            }
            idps.insert(k, encode(&idp))?;
            counts::add(counts_tx, &account, ENTITY, 1)?;
            Ok(())
        })?;
        Ok(self.commit.written(idp))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut IdentityProviderRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<IdentityProviderRecord>> {
        let stored = self.t.get()?.idpid_idp.transaction(|idps| {
            let k = owned(account, id);
            let Some(raw) = idps.get(&k)? else {
                return abort(StoreError::NotFound("Identity provider"));
            };
            let before: IdentityProviderRecord =
                decode(&raw).map_err(ConflictableTransactionError::Abort)?;
            let mut after = before.clone();
            change(&mut after).map_err(ConflictableTransactionError::Abort)?;
            after.id = before.id;
            after.account_id = before.account_id;
            after.created_at = before.created_at;
            after.etag = before.etag + 1;
            after.updated_at = crate::clock::now_millis();
            idps.insert(k, encode(&after))?;
            Ok(after)
        })?;
        Ok(self.commit.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>> {
        let t = &self.t.get()?;
        (&t.idpid_idp, &t.account_counts).transaction(|(idps, counts_tx)| {
            if idps.remove(owned(account, id))?.is_none() {
                return abort(StoreError::NotFound("Identity provider"));
            }
            counts::add(counts_tx, account, ENTITY, -1)?;
            Ok(())
        })?;
        Ok(self.commit.written(()))
    }
}
