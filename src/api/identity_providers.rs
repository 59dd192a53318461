//! Identity providers: `/v3/identity-providers/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/identity-providers/...`. Everyone may read; only admins
//! change. The rules (and the request body's checks) are in `service::identity_providers`.

use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::ids::{Id, IdentityProviderId};
use crate::service::identity_providers::{
    self as idps, sp_base, CertificateGenerationReq, IdentityProviderReq,
};
use crate::state::AppState;
use crate::status::IdentityProviderStatus;
use crate::store::identity_providers::IdentityProviderRecord;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

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
    let page = idps::list(&state, &scope.id(), &q.page)?;
    Ok(q.respond(page.map(|r| view(&state, &r))))
}

/// POST /v3/identity-providers
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: super::body::Json<IdentityProviderReq>,
) -> ApiResult<HttpResponse> {
    let created = idps::create(&state, &scope, body.0).await?;
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
    body: super::body::Json<IdentityProviderReq>,
) -> ApiResult<HttpResponse> {
    let current = id.find(&state, &scope)?;
    let updated = idps::update(&state, &scope, &current, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated)))
}

/// DELETE /v3/identity-providers/{identity_provider_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<IdentityProviderId>,
) -> ApiResult<HttpResponse> {
    let r = id.find(&state, &scope)?;
    idps::delete(&state, &scope, &r).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v3/identity-providers/{identity_provider_id}/generate-sp-certificate
///
/// The body is optional (`required: false` on this route): an empty one takes the
/// defaults.
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
    let updated = idps::generate_sp_certificate(&state, &scope, &current, req).await?;
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
    let updated = idps::delete_sp_certificate(&state, &scope, &current).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LOCATION, location(&scope, &updated.id)))
        .json(view(&state, &updated)))
}
