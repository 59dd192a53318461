//! The console's session cookie, so that a reload keeps a person signed in.
//!
//! After `POST /auth/login` the page hands its `rt_` token to `POST /console/session`, which
//! sets it as an HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
//! it), `Secure` under TLS cookie. The API itself takes only bearer tokens: the
//! [`adopt_cookie`] turns the cookie into `Authorization: Bearer` only for requests that also
//! carry the `X-IAMD-CSRF` header. A cross-site form or link cannot set a custom header, and
//! a cross-origin script cannot either without a CORS preflight, which `[http] cors_origins`
//! never allows for that header; so the cookie alone authorizes nothing (CSRF defence on
//! top of SameSite=Strict). A request with its own `Authorization` is left as it is.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::signin::SessionKind;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

pub const COOKIE: &str = "iamd_session";
pub const CSRF_HEADER: &str = "x-iamd-csrf";

/// POST /console/session: keeps the caller's own full sign-in session (never an API key, a
/// client-credentials token or a session still limited to a password change or TOTP setup)
/// in the cookie.
pub async fn create(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let (Some(session), Some(token)) = (caller.session.as_ref(), from_header) else {
        return Err(ApiError::Forbidden(
            "Only a sign-in session can be kept in the console's cookie.".into(),
        ));
    };
    if session.kind != SessionKind::Full {
        return Err(ApiError::Forbidden(
            "Finish the sign-in (password change or TOTP setup) first.".into(),
        ));
    }
    let secure = req.connection_info().scheme() == "https";
    let cookie = Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish();
    Ok(HttpResponse::NoContent()
        .insert_header(crate::api::headers::no_store())
        .cookie(cookie)
        .finish())
}

/// GET /console/session: whether the request (its cookie, with the CSRF header) is a full
/// sign-in session, always 200, so that a page opened without one logs no failed request.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = crate::auth::identify(&req, &state)
        .ok()
        .and_then(|c| c.session)
        .filter(|s| s.kind == SessionKind::Full);
    // The session's `reference_token` (as `active_sessions` names it; it authenticates
    // nothing) lets the profile page mark this session in the list.
    let body = match session {
        Some(s) => serde_json::json!({ "signed_in": true, "reference_token": s.id.hex() }),
        None => serde_json::json!({ "signed_in": false }),
    };
    HttpResponse::Ok()
        .insert_header(crate::api::headers::no_store())
        .json(body)
}

/// DELETE /console/session: forgets the cookie (the session itself ends with
/// `POST /auth/logout`).
pub async fn delete(req: HttpRequest) -> HttpResponse {
    let secure = req.connection_info().scheme() == "https";
    let mut cookie = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    HttpResponse::NoContent().cookie(cookie).finish()
}

/// Turns the cookie into a bearer token for requests that carry the CSRF header.
pub fn adopt_cookie(req: &mut ServiceRequest) {
    let wanted = !req.headers().contains_key(header::AUTHORIZATION)
        && req.headers().get(CSRF_HEADER).is_some_and(|v| v == "1");
    if !wanted {
        return;
    }
    let bearer = req
        .cookie(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
        .and_then(|v| HeaderValue::from_str(&format!("Bearer {v}")).ok());
    if let Some(bearer) = bearer {
        req.headers_mut().insert(header::AUTHORIZATION, bearer);
    }
}
