//! Server credentials: `/v3/server-credentials`, `/bootstrap`, `/lwm2m` (own account only;
//! the spec has no tenant twin). What devices need to reach and trust iamd's bootstrap and
//! LwM2M servers: the CA certificates generated at first start and the configured URIs.
//! Any authenticated caller may read them; they hold nothing secret (the CA private keys
//! never leave the store).

use super::scope::AccountScope;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::ids::Id;
use crate::state::AppState;
use crate::store::certificates::ServerCaKind;
use actix_web::{web, HttpResponse};
use serde::Serialize;

/// `uri` with the account appended as `aid`, as the real service hands it to devices.
pub fn with_account(uri: &str, account: &Id) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}aid={}", account.hex())
}

/// The server URI of `kind` for devices of `account`.
pub fn server_uri(state: &AppState, kind: ServerCaKind, account: &Id) -> String {
    let base = match kind {
        ServerCaKind::Bootstrap => state.config.bootstrap_server_uri(),
        ServerCaKind::Lwm2m => state.config.lwm2m_server_uri(),
    };
    with_account(&base, account)
}

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
    let ca = state.store.certificates.server_ca(kind);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aid_is_appended_as_a_query_parameter() {
        let id = Id::parse("015843e32ec902420a015e0700000000").unwrap();
        assert_eq!(
            with_account("coaps://h:5684", &id),
            "coaps://h:5684?aid=015843e32ec902420a015e0700000000"
        );
        assert_eq!(
            with_account("coaps://h:5684?x=1", &id),
            "coaps://h:5684?x=1&aid=015843e32ec902420a015e0700000000"
        );
    }
}
