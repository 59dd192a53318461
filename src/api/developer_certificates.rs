//! Developer certificates: `/v3/developer-certificates` (own account only, as in the spec).
//! What they are and who may see the device's private key is in
//! `service::certificates`; deleting goes through `DELETE /v3/trusted-certificates/{id}`.

use super::body::Json;
use super::path::{DeveloperCertificateId, PathId};
use super::scope::AccountScope;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::pki::{render_security_c, SecurityFileInput};
use crate::service::developer_certificates::{self as devcerts, may_see_key, DeveloperCertCreate};
use crate::service::server_credentials;
use crate::state::AppState;
use crate::store::certificates::{DeveloperKeyRecord, ServerCaKind, TrustedCertRecord};
use actix_web::{web, HttpResponse};
use serde::Serialize;

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
    let bootstrap = server_credentials::server_ca(state, ServerCaKind::Bootstrap);
    let lwm2m = server_credentials::server_ca(state, ServerCaKind::Lwm2m);
    let uri = server_credentials::server_uri(state, ServerCaKind::Bootstrap, &cert.account_id);
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

/// POST /v3/developer-certificates
pub async fn create(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<DeveloperCertCreate>,
) -> ApiResult<HttpResponse> {
    let (created, key) = devcerts::create(&state, &scope, body.0).await?;
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
    let (cert, key) =
        devcerts::get(&state, &scope, id.get()?.certificate())?.ok_or_else(not_found)?;
    Ok(respond(HttpResponse::Ok(), &state, &scope, &cert, &key))
}
