//! Developer certificates: `/v3/developer-certificates` (own account only, as in the spec).
//!
//! A developer certificate is a trusted certificate of the account (same id,
//! `device_execution_mode: 1`, service `bootstrap`) whose device identity iamd generated: a
//! new endpoint name, a fresh P-256 key and a self-signed certificate. Because the bootstrap
//! server trusts the account's trusted certificates, a device flashed with the returned
//! `security_file_content` is accepted. The device key is kept so that `GET` can return the
//! same credentials file again; it is the device's key, never a server CA key.
//!
//! Permissions (decided): any authenticated caller of the account may create and read
//! developer certificates. That is what the `Developers` group is for: developers flash
//! their own boards. The device's private key (`developer_private_key`, and
//! `security_file_content`, which embeds it) is shown only to the certificate's owner (the
//! user whose key created it) and to admins; others see the certificate without them.
//! Deleting goes through `DELETE /v3/trusted-certificates/{id}`.

use super::body::Json;
use super::path::{DeveloperCertificateId, Lookup, PathId};
use super::scope::AccountScope;
use super::server_credentials::server_uri;
use super::trusted_certificates::{new_record, DEVELOPER_MODE};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::{CertificateId, Id};
use crate::pki::{parse_trusted_chain, render_security_c, DeveloperCert, SecurityFileInput};
use crate::service::validate::Checks;
use crate::state::AppState;
use crate::store::certificates::{DeveloperKeyRecord, ServerCaKind, TrustedCertRecord};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

/// `DeveloperCertificateResponseData`. May hold the device's private key: only ever sent to
/// its owner and admins of the owning account, never logged (no `Debug`).
#[derive(Serialize)]
pub struct DeveloperCertView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
    pub etag: String,
    pub developer_certificate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_private_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_file_content: Option<String>,
}

/// Whether the caller may see the device's private key: the certificate's owner or an admin.
fn may_see_key(scope: &AccountScope, cert: &TrustedCertRecord) -> bool {
    scope.is_admin() || (cert.owner_id.is_some() && cert.owner_id == scope.caller.user_id())
}

/// The response: with the private key (and `Cache-Control: no-store`) only for `may_see_key`.
fn respond(
    mut builder: actix_web::HttpResponseBuilder,
    state: &AppState,
    scope: &AccountScope,
    cert: &TrustedCertRecord,
    key: &DeveloperKeyRecord,
) -> HttpResponse {
    if may_see_key(scope, cert) {
        builder
            .insert_header(super::headers::no_store())
            .json(view(state, cert, key))
    } else {
        builder.json(view_public(cert))
    }
}

/// The view without the private key.
fn view_public(cert: &TrustedCertRecord) -> DeveloperCertView {
    DeveloperCertView {
        object: "trusted-cert",
        id: cert.id.hex(),
        account_id: cert.account_id.hex(),
        name: cert.name.clone(),
        description: cert.description.clone(),
        created_at: rfc3339(cert.created_at),
        etag: cert.etag.to_string(),
        developer_certificate: cert.certificate.clone(),
        developer_private_key: None,
        security_file_content: None,
    }
}

fn view(state: &AppState, cert: &TrustedCertRecord, key: &DeveloperKeyRecord) -> DeveloperCertView {
    let account = cert.account_id.hex();
    let bootstrap = state.store.certificates.server_ca(ServerCaKind::Bootstrap);
    let lwm2m = state.store.certificates.server_ca(ServerCaKind::Lwm2m);
    let uri = server_uri(state, ServerCaKind::Bootstrap, &cert.account_id);
    let security_file_content = render_security_c(&SecurityFileInput {
        endpoint_name: &key.endpoint_name,
        account_id: &account,
        bootstrap_server_uri: &uri,
        device_cert_der: &key.cert_der,
        bootstrap_ca_der: bootstrap.ca.cert_der(),
        lwm2m_ca_der: lwm2m.ca.cert_der(),
        device_private_key_der: &key.private_key_der,
    });
    DeveloperCertView {
        developer_private_key: Some(key.private_key_pem.clone()),
        security_file_content: Some(security_file_content),
        ..view_public(cert)
    }
}

/// `DeveloperCertificateRequestData`.
#[derive(Deserialize)]
pub struct DeveloperCertCreate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// POST /v3/developer-certificates
pub async fn create(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<DeveloperCertCreate>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let mut c = Checks::new();
    c.required_text("name", req.name.as_deref(), 100, "Required.");
    c.max_len("description", req.description.as_deref(), 500);
    c.finish()?;
    let account = scope.id();
    let endpoint_name = Id::new().hex();
    let dev = DeveloperCert::generate(&account.hex(), &endpoint_name)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The same intake as uploads, so a developer certificate is shown exactly like any
    // other trusted certificate.
    let parsed = parse_trusted_chain(&dev.cert_pem, time::OffsetDateTime::now_utc())
        .map_err(|e| ApiError::Internal(format!("generated certificate refused: {e}")))?;
    let record = TrustedCertRecord {
        name: req.name.unwrap_or_default(),
        description: req.description,
        service: "bootstrap".into(),
        device_execution_mode: DEVELOPER_MODE,
        owner_id: scope.caller.user_id(),
        ..new_record(account, &parsed)
    };
    let key = DeveloperKeyRecord {
        endpoint_name,
        cert_der: dev.cert_der.clone(),
        private_key_der: dev.private_key_der.clone(),
        private_key_pem: dev.private_key_pem.clone(),
    };
    let limit = u64::from(state.config.limits.developer_certificates_per_account);
    let created = state
        .store
        .certificates
        .create(record, Some((key.clone(), limit)))?
        .durable()
        .await?;
    // The creator is the owner (or, with a key that has no owner, sees it this once).
    Ok(HttpResponse::Created()
        .insert_header(super::headers::no_store())
        .json(view(&state, &created, &key)))
}

/// GET /v3/developer-certificates/{developerCertificateId}
///
/// The id of a trusted certificate that is not a developer certificate is 404.
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<DeveloperCertificateId>,
) -> ApiResult<HttpResponse> {
    let not_found = super::path::not_found::<DeveloperCertificateId>;
    let cert =
        CertificateId::get(&state, &scope.id(), id.get()?.certificate())?.ok_or_else(not_found)?;
    let key = state
        .store
        .certificates
        .developer_key(&scope.id(), &cert.id)?
        .ok_or_else(not_found)?;
    Ok(respond(HttpResponse::Ok(), &state, &scope, &cert, &key))
}
