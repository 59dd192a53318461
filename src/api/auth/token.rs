//! `POST /auth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4). The client
//! is an API key: its id is the key's public part (what responses show as `key`), its
//! secret the full key or the part after the public one. Credentials come form-encoded in
//! the body or as HTTP Basic (§2.3.1). The answer is a short-lived `rt_` token with the
//! key's rights, read with the key on every request (see `auth::session`).

use crate::auth::apikey;
use crate::auth::session;
use crate::auth::throttle::LoginThrottle;
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::state::AppState;
use crate::store::signin::{SessionKind, SessionRecord};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;

const WRONG: &str = "The client credentials are wrong.";

/// The client id and secret of an HTTP Basic `Authorization` header, if there is one.
fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The full key text that `client_id` and `secret` name, if they fit together.
fn full_key(client_id: &str, secret: &str) -> Option<String> {
    apikey::parse(client_id)?;
    let full = if secret.starts_with(client_id) {
        secret.to_string()
    } else {
        format!("{client_id}{secret}")
    };
    (full.len() == apikey::FULL_LEN && apikey::parse(&full).is_some()).then_some(full)
}

/// POST /auth/token
pub async fn token(
    state: web::Data<AppState>,
    throttle: web::Data<LoginThrottle>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| ApiError::BadRequest(format!("The body is not form-encoded: {e}")))?;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        None => return Err(ApiError::field("grant_type", "Must be client_credentials.")),
        Some(_) => {
            return Err(ApiError::field(
                "grant_type",
                "Only client_credentials is supported.",
            ))
        }
    }
    let (client_id, secret) = match (
        basic(&req),
        form.get("client_id"),
        form.get("client_secret"),
    ) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, id, secret) => {
            let mut fields = Vec::new();
            if id.is_none() {
                fields.push(crate::error::FieldError::new(
                    "client_id",
                    "Name the API key.",
                ));
            }
            if secret.is_none() {
                fields.push(crate::error::FieldError::new(
                    "client_secret",
                    "Give the key's secret.",
                ));
            }
            return Err(ApiError::fields(fields));
        }
    };
    let ip = req.peer_addr().map(|a| a.ip());
    if let Some(secs) = throttle.locked(None, &client_id, ip) {
        return Err(ApiError::TooManyRequests(secs));
    }
    let found = match full_key(&client_id, &secret) {
        Some(full) => {
            let digest = apikey::digest(&full);
            state
                .store
                .apikeys
                .by_digest(&digest)?
                .filter(|k| apikey::constant_time_eq(&k.key_digest, &digest))
        }
        None => None,
    };
    let Some(key) = found else {
        throttle.failure(None, &client_id, ip);
        return Err(ApiError::Unauthorized(WRONG.into()));
    };
    // The key's own rules (active, its owner active): refused as a request with it would be.
    let caller = crate::auth::key_caller(key.clone(), &state)?;
    let (token, digest) = session::issue();
    let now = state.config.auth.clock.now_millis();
    let lifetime = state.config.auth.client_token_secs as i64;
    let client = super::client_info(&req);
    let record = SessionRecord {
        id: Id::new(),
        account_id: caller.account.id,
        subject: key.id.id(),
        kind: SessionKind::Client,
        token_digest: digest,
        login_time: now,
        last_used: now,
        expires_at: now + lifetime * 1000,
        password_epoch: None,
        key_digest: Some(key.key_digest.clone()),
        ip_address: client.ip_text(),
        user_agent: client.user_agent,
    };
    state
        .store
        .signin
        .sessions
        .create(&record)?
        .durable()
        .await?;
    Ok(super::secret_json(&json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    })))
}
