//! Trusted certificates: `/v3/trusted-certificates/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/trusted-certificates/...`. Who may change them and how an
//! upload is checked is in `service::certificates`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ, EQ_NEQ, LIKE};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::ids::CertificateId;
use crate::service::certificates::{self, is_valid, TrustedCertCreate, TrustedCertUpdate};
use crate::state::AppState;
use crate::status::CertificateStatus;
use crate::store::certificates::TrustedCertRecord;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// `TrustedCertificateResp`.
#[derive(Serialize)]
pub struct TrustedCertView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub description: Option<String>,
    pub service: String,
    pub status: CertificateStatus,
    pub enrollment_mode: bool,
    pub device_execution_mode: i32,
    pub owner_id: Option<String>,
    pub certificate: String,
    pub certificate_fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub validity: String,
    pub valid: bool,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
}

pub fn view(c: &TrustedCertRecord) -> TrustedCertView {
    TrustedCertView {
        object: "trusted-cert",
        id: c.id.hex(),
        account_id: c.account_id.hex(),
        name: c.name.clone(),
        description: c.description.clone(),
        service: c.service.clone(),
        status: c.status,
        enrollment_mode: c.enrollment_mode,
        device_execution_mode: c.device_execution_mode,
        owner_id: c.owner_id.map(|o| o.hex()),
        certificate: c.certificate.clone(),
        certificate_fingerprint: c.fingerprint.clone(),
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        validity: rfc3339(c.not_after),
        valid: is_valid(c, crate::clock::now_millis()),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        etag: c.etag.to_string(),
    }
}

/// POST /v3/trusted-certificates
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: Json<TrustedCertCreate>,
) -> ApiResult<HttpResponse> {
    let created = certificates::create(&state, &scope, body.0).await?;
    Ok(HttpResponse::Created().json(view(&created)))
}

/// The filters of `GET /v3/trusted-certificates` (`x-filter`).
const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "name",
        ops: EQ,
    },
    FilterSpec {
        field: "service",
        ops: EQ,
    },
    FilterSpec {
        field: "expire",
        ops: EQ,
    },
    FilterSpec {
        field: "device_execution_mode",
        ops: EQ_NEQ,
    },
    FilterSpec {
        field: "owner",
        ops: EQ,
    },
    FilterSpec {
        field: "enrollment_mode",
        ops: EQ,
    },
    FilterSpec {
        field: "status",
        ops: EQ,
    },
    FilterSpec {
        field: "issuer",
        ops: LIKE,
    },
    FilterSpec {
        field: "subject",
        ops: LIKE,
    },
    FilterSpec {
        field: "valid",
        ops: EQ,
    },
];

/// GET /v3/trusted-certificates
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, FILTERS)?;
    let page = certificates::list(&state, &scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.map(|c| view(&c))))
}

/// GET /v3/trusted-certificates/{cert_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<CertificateId>,
) -> ApiResult<HttpResponse> {
    let cert = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&cert)))
}

/// PUT /v3/trusted-certificates/{cert_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<CertificateId>,
    body: Json<TrustedCertUpdate>,
) -> ApiResult<HttpResponse> {
    let current = id.find(&state, &scope)?;
    let updated = certificates::update(&state, &scope, &current, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&updated)))
}

/// DELETE /v3/trusted-certificates/{cert_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<CertificateId>,
) -> ApiResult<HttpResponse> {
    let cert = id.find(&state, &scope)?;
    certificates::delete(&state, &scope, &cert).await?;
    Ok(HttpResponse::NoContent().finish())
}
