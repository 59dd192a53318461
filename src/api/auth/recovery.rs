//! `POST /auth/forgot-password`, `/auth/reset-password`, `/auth/verify-email`; the rules
//! are in `service::signin::recovery`.

use super::super::body::Json;
use crate::auth::throttle::LoginThrottle;
use crate::error::ApiResult;
use crate::service::signin::recovery;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ForgotBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    account: Option<String>,
}

/// POST /auth/forgot-password: 204 whether or not the email is known.
pub async fn forgot_password(
    state: web::Data<AppState>,
    throttle: web::Data<LoginThrottle>,
    req: HttpRequest,
    body: Json<ForgotBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let email = body.email.unwrap_or_default();
    let info = crate::api::scope::request_info(&req);
    recovery::forgot_password(state.into_inner(), &throttle, email, body.account, info)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct ResetBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// POST /auth/reset-password
pub async fn reset_password(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    body: Json<ResetBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let info = crate::api::scope::request_info(&req);
    recovery::reset_password(&state, body.token.as_deref(), body.password, &info).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct VerifyBody {
    #[serde(default)]
    token: Option<String>,
}

/// POST /auth/verify-email
pub async fn verify_email(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    body: Json<VerifyBody>,
) -> ApiResult<HttpResponse> {
    let info = crate::api::scope::request_info(&req);
    recovery::verify_email(&state, body.0.token.as_deref(), &info).await?;
    Ok(HttpResponse::NoContent().finish())
}
