//! `POST /auth/login` and `POST /auth/logout`.

use super::super::body::Json;
use crate::auth::login::{self, LoginRequest};
use crate::auth::throttle::LoginThrottle;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, UserId};
use crate::service::validate::Checks;
use crate::state::AppState;
use crate::store::signin::SessionKind;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct LoginBody {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    otp: Option<String>,
}

/// The answer to a login: the bearer token and what the session may do.
#[derive(Serialize)]
pub struct SessionView {
    pub object: &'static str,
    pub token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub password_change_required: bool,
    pub totp_setup_required: bool,
}

/// POST /auth/login
pub async fn login(
    state: web::Data<AppState>,
    throttle: web::Data<LoginThrottle>,
    req: HttpRequest,
    body: Json<LoginBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut c = Checks::new();
    c.check(
        body.username
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty()),
        "username",
        "Enter an email address or username.",
    );
    c.check(
        body.password.as_deref().is_some_and(|p| !p.is_empty()),
        "password",
        "Enter the password.",
    );
    c.max_len("username", body.username.as_deref(), 254);
    c.max_len("password", body.password.as_deref(), 512);
    c.max_len("account", body.account.as_deref(), 100);
    c.finish()?;
    let request = LoginRequest {
        username: body.username.unwrap_or_default().trim().to_string(),
        password: body.password.unwrap_or_default(),
        account: body.account.filter(|a| !a.trim().is_empty()),
        otp: body.otp,
    };
    let client = super::client_info(&req);
    let info = crate::api::scope::request_info(&req);
    let done = login::login(&state, &throttle, request, &client, &info).await?;
    let s = &done.session;
    Ok(super::secret_json(&SessionView {
        object: "user-session",
        token: done.token,
        token_type: "Bearer",
        expires_in: done.expires_in,
        account_id: s.account_id,
        user_id: UserId::from_id(s.subject),
        password_change_required: s.kind == SessionKind::PasswordChange,
        totp_setup_required: s.kind == SessionKind::TotpSetup,
    }))
}

/// The optional body of `POST /auth/logout`.
#[derive(Deserialize, Default)]
pub struct LogoutBody {
    #[serde(default)]
    reference_token: Option<String>,
}

/// POST /auth/logout: ends the session whose token authenticates the request or, with a
/// `reference_token` (as `active_sessions` names them), that one of the same user's live
/// sessions, leaving the others (the console's "sign out" in the sessions list).
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let session = caller
        .session
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("Only a session token (rt_...) can log out.".into()))?;
    let bytes =
        crate::api::body::read_limited(&mut payload.into_inner(), state.config.max_json_body_bytes)
            .await?;
    // No body (or an empty one) is the plain logout.
    let body: LogoutBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        LogoutBody::default()
    } else {
        crate::api::body::parse(&bytes)?
    };
    let info = crate::api::scope::request_info(&req);
    let user = caller.owner.as_deref();
    use crate::service::signin::sessions;
    match body.reference_token {
        None => sessions::logout(&state, session, user, &info).await?,
        Some(reference) => sessions::logout_one(&state, user, &reference, &info).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}
