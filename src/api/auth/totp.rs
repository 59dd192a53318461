//! `POST /auth/totp`, `/auth/totp/confirm`, `/auth/totp/scratch-codes`; the rules are in
//! `service::signin::totp`.

use super::super::body::Json;
use crate::error::ApiResult;
use crate::service::signin::totp;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct OtpBody {
    #[serde(default)]
    otp: Option<String>,
}

/// POST /auth/totp: a new secret for the caller, on once confirmed.
pub async fn setup(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let new = totp::setup(&state, &caller).await?;
    Ok(super::secret_json(&json!({
        "secret": new.secret,
        "otpauth_uri": new.otpauth_uri,
    })))
}

/// POST /auth/totp/confirm: a code of the new secret turns TOTP on; the answer holds the
/// scratch codes, shown this once.
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<OtpBody>,
) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let info = crate::api::scope::request_info(&req);
    let codes = totp::confirm(&state, &caller, body.0.otp.as_deref(), &info).await?;
    Ok(super::secret_json(
        &json!({"totp_scratch_codes": codes, "is_totp_enabled": true}),
    ))
}

/// POST /auth/totp/scratch-codes: new scratch codes for a current code.
pub async fn scratch_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<OtpBody>,
) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let info = crate::api::scope::request_info(&req);
    let codes = totp::scratch_codes(&state, &caller, body.0.otp.as_deref(), &info).await?;
    Ok(super::secret_json(&json!({"totp_scratch_codes": codes})))
}
