//! `POST /auth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4), form-encoded,
//! the credentials in the body or as HTTP Basic (§2.3.1). See `service::signin::token`.

use crate::auth::throttle::LoginThrottle;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::service::signin::token;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;

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
                fields.push(FieldError::new("client_id", "Name the API key."));
            }
            if secret.is_none() {
                fields.push(FieldError::new("client_secret", "Give the key's secret."));
            }
            return Err(ApiError::fields(fields));
        }
    };
    let client = super::client_info(&req);
    let info = crate::api::scope::request_info(&req);
    let issued = token::issue(&state, &throttle, &client_id, &secret, &client, &info).await?;
    Ok(super::secret_json(&json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    })))
}
