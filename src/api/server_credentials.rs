//! Server credentials: `/v3/server-credentials`, `/bootstrap`, `/lwm2m` (own account only;
//! the spec has no tenant twin). Any authenticated caller may read them: see
//! `service::server_credentials`.

use super::scope::AccountScope;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::service::server_credentials::{server_ca, server_uri};
use crate::state::AppState;
use crate::store::certificates::ServerCaKind;
use actix_web::{web, HttpResponse};
use serde::Serialize;

/// `ServerCredentialsResponseData`.
#[derive(Serialize)]
pub struct ServerCredentialsView {
    pub object: &'static str,
    pub id: String,
    pub created_at: String,
    pub etag: String,
    pub server_certificate: String,
    pub server_uri: String,
}

/// `CredentialsResponseData`.
#[derive(Serialize)]
pub struct CredentialsView {
    pub certificate: String,
    pub url: String,
}

/// `AllServerCredentialsResponseData`.
#[derive(Serialize)]
pub struct AllServerCredentialsView {
    pub bootstrap: CredentialsView,
    pub lwm2m: CredentialsView,
}

fn one(state: &AppState, scope: &AccountScope, kind: ServerCaKind) -> ServerCredentialsView {
    let ca = server_ca(state, kind);
    ServerCredentialsView {
        object: "server-credentials",
        id: ca.id.hex(),
        created_at: rfc3339(ca.created_at),
        etag: "1".into(),
        server_certificate: ca.ca.cert_pem(),
        server_uri: server_uri(state, kind, &scope.id()),
    }
}

/// GET /v3/server-credentials
pub async fn all(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    let pair = |kind| {
        let v = one(&state, &scope, kind);
        CredentialsView {
            certificate: v.server_certificate,
            url: v.server_uri,
        }
    };
    Ok(HttpResponse::Ok().json(AllServerCredentialsView {
        bootstrap: pair(ServerCaKind::Bootstrap),
        lwm2m: pair(ServerCaKind::Lwm2m),
    }))
}

/// GET /v3/server-credentials/bootstrap
pub async fn bootstrap(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(one(&state, &scope, ServerCaKind::Bootstrap)))
}

/// GET /v3/server-credentials/lwm2m
pub async fn lwm2m(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(one(&state, &scope, ServerCaKind::Lwm2m)))
}
