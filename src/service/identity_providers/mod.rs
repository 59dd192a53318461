//! Identity providers: creating, updating and deleting them, their SAML service-provider
//! certificate, and the rule every user write shares (`login_profiles` name providers of
//! the account).
//!
//! The spec creates only SAML2 providers (`IdentityProviderCreationReq.type`) and defines no
//! OIDC attributes, so neither does this module. Names need not be unique: the spec lists
//! no 409 for these operations.

mod request;
pub mod saml;

pub use request::{IdentityProviderReq, Saml2Req};

use super::audit;
use super::scope::AccountScope;
use super::validate::{self, Checks};
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, Id, IdentityProviderId};
use crate::state::AppState;
use crate::status::IdentityProviderStatus;
use crate::store::identity_providers as store_idps;
use crate::store::identity_providers::{IdentityProviderRecord, Saml2Record};
use crate::store::{Page, PageRequest};
use serde::Deserialize;

/// The types a client may create or set (the spec's request enum).
pub const TYPES: &[&str] = &["SAML2"];
/// `CertificateGenerationReq.validity`, in days, when absent; and its accepted range.
pub const DEFAULT_VALIDITY_DAYS: i64 = 365;
pub const MAX_VALIDITY_DAYS: i64 = 3650;
/// `CertificateGenerationReq.algorithm` values this server can honour (RSA2048, the
/// default, included); ring signs with neither P-224 nor P-521 keys.
pub const ALGORITHMS: &[&str] = &[
    "RSA2048", "RSA3072", "EC256", "ECDSA256", "EC384", "ECDSA384",
];
const ALL_ALGORITHMS: &[&str] = &[
    "RSA2048", "RSA3072", "EC224", "EC256", "EC384", "EC521", "ECDSA224", "ECDSA256", "ECDSA384",
    "ECDSA521",
];

/// A reference to an identity provider in a user or invitation body (`login_profiles`).
#[derive(Deserialize, Clone)]
pub struct LoginProfileRef {
    pub id: String,
}

/// The ids of `login_profiles` as the request wrote them.
pub fn profile_ids(profiles: &Option<Vec<LoginProfileRef>>) -> Vec<String> {
    profiles.iter().flatten().map(|p| p.id.clone()).collect()
}

/// `login_profiles` may only name identity providers of the account (400 otherwise).
pub fn check_login_profiles(state: &AppState, account: &Id, ids: &[String]) -> ApiResult<()> {
    let ids = validate::ids("login_profiles", ids)?;
    check_login_profiles_exist(state, account, &ids)
}

/// 400 naming `login_profiles` when an id is not a provider of `account`.
pub fn check_login_profiles_exist(state: &AppState, account: &Id, ids: &[Id]) -> ApiResult<()> {
    for id in ids {
        if state.store.identity_providers.get(account, id)?.is_none() {
            return Err(ApiError::field(
                "login_profiles",
                format!("Identity provider {id} does not exist."),
            ));
        }
    }
    Ok(())
}

/// Where this server's SAML service provider for `id` lives; the default SP entity id.
pub fn sp_base(state: &AppState, id: &Id) -> String {
    format!("{}/auth/saml2/{}", state.config.public_url(), id.hex())
}

/// GET /v3/identity-providers/{identity_provider_id}: the provider of `account` with `id`.
pub fn get(state: &AppState, account: &Id, id: &Id) -> ApiResult<Option<IdentityProviderRecord>> {
    Ok(state.store.identity_providers.get(account, id)?)
}

/// GET /v3/identity-providers
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
) -> ApiResult<Page<IdentityProviderRecord>> {
    Ok(state.store.identity_providers.list(account, page, &[])?)
}

/// POST /v3/identity-providers
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    req: IdentityProviderReq,
) -> ApiResult<IdentityProviderRecord> {
    let patch = req.check()?;
    let now = crate::clock::now_millis();
    let mut record = IdentityProviderRecord {
        id: IdentityProviderId::new(),
        account_id: scope.id(),
        name: String::new(),
        description: None,
        kind: "SAML2".into(),
        status: IdentityProviderStatus::Active,
        saml2: Saml2Record::default(),
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    let default_sp = sp_base(state, &record.id);
    patch.apply(&mut record, &default_sp);
    Ok(state
        .store
        .transact(|tx| {
            store_idps::create_in(tx, &record)?;
            let target = ("identity-provider", &*record.id);
            audit::record(tx, scope, "create", target, None, Some(&record))?;
            Ok(record.clone())
        })?
        .durable()
        .await?)
}

/// PUT /v3/identity-providers/{identity_provider_id}
pub async fn update(
    state: &AppState,
    scope: &AccountScope,
    current: &IdentityProviderRecord,
    req: IdentityProviderReq,
) -> ApiResult<IdentityProviderRecord> {
    let patch = req.check()?;
    let default_sp = sp_base(state, &current.id);
    update_recorded(state, scope, current, &|r| {
        patch.apply(r, &default_sp);
        Ok(())
    })
    .await
}

/// DELETE /v3/identity-providers/{identity_provider_id}
///
/// A provider still named in a user's `login_profiles` is in use: 403.
pub async fn delete(
    state: &AppState,
    scope: &AccountScope,
    r: &IdentityProviderRecord,
) -> ApiResult<()> {
    let account = scope.id();
    // The users are scanned outside the delete transaction (an engine may not scan inside
    // one), after reading the provider's use stamp; the delete commits only if the stamp is
    // unchanged, that is if no user was given the provider since (each such write bumps it
    // in its own transaction), and the scan starts over otherwise.
    let using = [crate::store::filter::Filter::eq(
        "login_profiles",
        &r.id.hex(),
    )];
    let first = PageRequest {
        limit: 1,
        ..PageRequest::all()
    };
    loop {
        let seen = store_idps::stamp(&*state.store.engine, &account, &r.id)?;
        let users = state.store.users.list(&account, &first, &using)?;
        if let Some(user) = users.items.first() {
            return Err(ApiError::Forbidden(format!(
                "The identity provider is in use: user {} has it as a login profile.",
                user.id
            )));
        }
        let deleted = state
            .store
            .transact(|tx| {
                let gone = store_idps::delete_unused_in(tx, &account, &r.id, seen)?;
                if gone {
                    let target = ("identity-provider", &*r.id);
                    audit::record(tx, scope, "delete", target, Some(r), None)?;
                }
                Ok(gone)
            })?
            .durable()
            .await?;
        if deleted {
            return Ok(());
        }
    }
}

/// `CertificateGenerationReq`.
#[derive(Deserialize, Default)]
pub struct CertificateGenerationReq {
    #[serde(default)]
    pub algorithm: Option<String>,
    #[serde(default)]
    pub validity: Option<i64>,
}

/// POST /v3/identity-providers/{identity_provider_id}/generate-sp-certificate
///
/// The new certificate replaces any earlier one.
pub async fn generate_sp_certificate(
    state: &AppState,
    scope: &AccountScope,
    current: &IdentityProviderRecord,
    req: CertificateGenerationReq,
) -> ApiResult<IdentityProviderRecord> {
    let mut c = Checks::new();
    if let Some(alg) = req.algorithm.as_deref() {
        if !ALL_ALGORITHMS.contains(&alg) {
            c.one_of("algorithm", Some(alg), ALL_ALGORITHMS);
        } else if !ALGORITHMS.contains(&alg) {
            c.fail(
                "algorithm",
                format!(
                    "{alg} is not supported by this server; use one of: {}.",
                    ALGORITHMS.join(", ")
                ),
            );
        }
    }
    c.range("validity", req.validity, 1, MAX_VALIDITY_DAYS);
    c.finish()?;
    let days = req.validity.unwrap_or(DEFAULT_VALIDITY_DAYS) as u32;
    let key = req
        .algorithm
        .as_deref()
        .and_then(crate::pki::SpKey::from_api)
        .unwrap_or_default();
    let cn = format!("SAML SP {}", current.id);
    // An RSA key takes long enough to make that it must not hold up a request thread.
    let pem = actix_web::web::block(move || crate::pki::generate_sp_certificate(&cn, days, key))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    set_sp_certificate(state, scope, current, Some(pem)).await
}

/// POST /v3/identity-providers/{identity_provider_id}/delete-sp-certificate
pub async fn delete_sp_certificate(
    state: &AppState,
    scope: &AccountScope,
    current: &IdentityProviderRecord,
) -> ApiResult<IdentityProviderRecord> {
    set_sp_certificate(state, scope, current, None).await
}

async fn set_sp_certificate(
    state: &AppState,
    scope: &AccountScope,
    current: &IdentityProviderRecord,
    pem: Option<String>,
) -> ApiResult<IdentityProviderRecord> {
    update_recorded(state, scope, current, &|r| {
        r.saml2.sp_x509_cert = pem.clone();
        Ok(())
    })
    .await
}

/// Applies `change` to `current` with its audit entry, in one transaction.
async fn update_recorded(
    state: &AppState,
    scope: &AccountScope,
    current: &IdentityProviderRecord,
    change: &dyn Fn(&mut IdentityProviderRecord) -> crate::store::StoreResult<()>,
) -> ApiResult<IdentityProviderRecord> {
    let account = scope.id();
    Ok(state
        .store
        .transact(|tx| {
            let after = store_idps::update_in(tx, &account, &current.id, change)?;
            let target = ("identity-provider", &*current.id);
            audit::record(tx, scope, "update", target, Some(current), Some(&after))?;
            Ok(after)
        })?
        .durable()
        .await?)
}
