//! Identity providers: `/v3/identity-providers/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/identity-providers/...`. Everyone may read; only admins change.
//!
//! The spec creates only SAML2 providers (`IdentityProviderCreationReq.type`) and defines no
//! OIDC attributes, so neither does this module. Names need not be unique: the spec lists
//! no 409 for these operations.

mod request;
pub mod saml;

pub use request::{IdentityProviderReq, Saml2Req};

use super::body::Json;
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::users::LoginProfileView;
use super::validate::Checks;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::{Id, IdentityProviderId};
use crate::state::AppState;
use crate::status::IdentityProviderStatus;
use crate::store::identity_providers::{IdentityProviderRecord, Saml2Record};
use crate::store::PageRequest;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

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

/// `IdentityProviderInfo`. Unset optional fields are left out: the spec does not mark them
/// nullable.
#[derive(Serialize)]
pub struct IdentityProviderView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: IdentityProviderStatus,
    pub saml2_attributes: Saml2View,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
}

/// `SAML2Info`.
#[derive(Serialize)]
pub struct Saml2View {
    pub assertion_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_entity_id: Option<String>,
    pub idp_x509_certs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_endpoint: Option<String>,
    pub sp_entity_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp_x509_cert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_endpoint: Option<String>,
}

/// Where this server's SAML service provider for `id` lives; the default SP entity id.
fn sp_base(state: &AppState, id: &Id) -> String {
    format!("{}/auth/saml2/{}", state.config.public_url(), id.hex())
}

pub fn view(state: &AppState, r: &IdentityProviderRecord) -> IdentityProviderView {
    IdentityProviderView {
        object: "identity-provider",
        id: r.id.hex(),
        account_id: r.account_id.hex(),
        name: r.name.clone(),
        description: r.description.clone(),
        kind: r.kind.clone(),
        status: r.status,
        saml2_attributes: Saml2View {
            assertion_endpoint: format!("{}/acs", sp_base(state, &r.id)),
            idp_entity_id: r.saml2.idp_entity_id.clone(),
            idp_x509_certs: r.saml2.idp_x509_certs.clone(),
            slo_endpoint: r.saml2.slo_endpoint.clone(),
            sp_entity_id: r.saml2.sp_entity_id.clone(),
            sp_x509_cert: r.saml2.sp_x509_cert.clone(),
            sso_endpoint: r.saml2.sso_endpoint.clone(),
        },
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
        etag: r.etag.to_string(),
    }
}

/// The path of a provider in the family the request came through.
fn location(scope: &AccountScope, id: &Id) -> String {
    if scope.tenant {
        format!(
            "/v3/accounts/{}/identity-providers/{}",
            scope.id().hex(),
            id.hex()
        )
    } else {
        format!("/v3/identity-providers/{}", id.hex())
    }
}

/// GET /v3/identity-providers
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    // The operation has no `x-filter`: any `field__op` parameter is a 400.
    let q = super::list::ListQuery::parse(&req, 50, &[])?;
    let page = state
        .store
        .identity_providers
        .list(&scope.id(), &q.page, &[])?;
    Ok(q.respond(page.map(|r| view(&state, &r))))
}

/// POST /v3/identity-providers
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: Json<IdentityProviderReq>,
) -> ApiResult<HttpResponse> {
    let patch = body.0.check()?;
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
    let default_sp = sp_base(&state, &record.id);
    patch.apply(&mut record, &default_sp);
    let created = state
        .store
        .identity_providers
        .create(record)?
        .durable()
        .await?;
    let path = location(&scope, &created.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, path.clone()))
        .insert_header((header::CONTENT_LOCATION, path))
        .json(view(&state, &created)))
}

/// GET /v3/identity-providers/{identity_provider_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<IdentityProviderId>,
) -> ApiResult<HttpResponse> {
    let r = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &r)))
}

/// PUT /v3/identity-providers/{identity_provider_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<IdentityProviderId>,
    body: Json<IdentityProviderReq>,
) -> ApiResult<HttpResponse> {
    let current = id.find(&state, &scope)?;
    let patch = body.0.check()?;
    let default_sp = sp_base(&state, &current.id);
    let updated = state
        .store
        .identity_providers
        .update(&scope.id(), &current.id, &|r| {
            patch.apply(r, &default_sp);
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated)))
}

/// DELETE /v3/identity-providers/{identity_provider_id}
///
/// A provider still named in a user's `login_profiles` is in use: 403.
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<IdentityProviderId>,
) -> ApiResult<HttpResponse> {
    let account = scope.id();
    let r = id.find(&state, &scope)?;
    // The users are scanned outside the delete transaction (an engine may not scan inside one),
    // and the scan stops at the first user found. A user given this provider in the
    // moment between the scan and the delete keeps a dangling id, shown without name and
    // type and still accepted when echoed back: a harmless leftover, where an
    // `idp -> user` index would have to be kept in step by every user write.
    let using = [crate::store::filter::Filter::eq(
        "login_profiles",
        &r.id.hex(),
    )];
    let first = PageRequest {
        limit: 1,
        ..PageRequest::all()
    };
    let users = state.store.users.list(&account, &first, &using)?;
    if let Some(user) = users.items.first() {
        return Err(ApiError::Forbidden(format!(
            "The identity provider is in use: user {} has it as a login profile.",
            user.id
        )));
    }
    state
        .store
        .identity_providers
        .delete(&account, &r.id)?
        .durable()
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
/// The body is optional (`required: false` on this route): an empty one takes the
/// defaults. The new certificate replaces any earlier one.
pub async fn generate_sp_certificate(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<IdentityProviderId>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let current = id.find(&state, &scope)?;
    let bytes =
        super::body::read_limited(&mut payload.into_inner(), state.config.max_json_body_bytes)
            .await?;
    let req: CertificateGenerationReq = if bytes.iter().all(u8::is_ascii_whitespace) {
        CertificateGenerationReq::default()
    } else {
        super::body::parse(&bytes)?
    };
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
    let pem = web::block(move || crate::pki::generate_sp_certificate(&cn, days, key))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let updated = state
        .store
        .identity_providers
        .update(&scope.id(), &current.id, &|r| {
            r.saml2.sp_x509_cert = Some(pem.clone());
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LOCATION, location(&scope, &updated.id)))
        .json(view(&state, &updated)))
}

/// POST /v3/identity-providers/{identity_provider_id}/delete-sp-certificate
pub async fn delete_sp_certificate(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<IdentityProviderId>,
) -> ApiResult<HttpResponse> {
    let current = id.find(&state, &scope)?;
    let updated = state
        .store
        .identity_providers
        .update(&scope.id(), &current.id, &|r| {
            r.saml2.sp_x509_cert = None;
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LOCATION, location(&scope, &updated.id)))
        .json(view(&state, &updated)))
}

/// The `login_profiles` of a user view: id, name and type of each referenced provider.
/// An id whose provider is gone (see `delete`) is shown without name and type.
pub fn login_profiles_view(
    state: &AppState,
    account: &Id,
    ids: &[Id],
) -> ApiResult<Vec<LoginProfileView>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let found = state.store.identity_providers.get(account, id)?;
        out.push(LoginProfileView {
            id: id.hex(),
            name: found.as_ref().map(|r| r.name.clone()),
            kind: found.map(|r| r.kind),
        });
    }
    Ok(out)
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
