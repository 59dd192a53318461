//! Users: `/v3/users/...` and, through `AccountScope`, `/v3/accounts/{account_id}/users/...`.
//! The rules are in `service::users`.

use super::body::{json_response, Json};
use super::list::{FilterSpec, ListQuery, EQ, EQ_IN_NIN};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::views::users::{active_sessions, view, view_created, views};
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::service::users::{self, UserCreate, UserUpdate};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    pub action: Option<String>,
}

/// POST /v3/users
///
/// `action=create` (the default) or `action=invite`; see `service::users::create`.
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    params: web::Query<CreateParams>,
    body: Json<UserCreate>,
) -> ApiResult<HttpResponse> {
    let action = params.action.as_deref().unwrap_or("create");
    let created = users::create(&state, &scope, action, body.0).await?;
    let mut v = view_created(&state, &created.user)?;
    let mut response = HttpResponse::Created();
    if created.generated_password.is_some() {
        response.insert_header(super::headers::no_store());
    }
    v.password = created.generated_password;
    Ok(response.json(v))
}

/// Whether the query's `include` (comma-separated) asks for `what`.
fn includes(req: &HttpRequest, what: &str) -> bool {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| k == "include")
        .any(|(_, v)| v.split(',').any(|part| part.trim() == what))
}

/// GET /v3/users/me
pub async fn get_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let user = users::me(&scope)?;
    let mut v = view(&state, user)?;
    if includes(&req, "active_sessions") {
        v.active_sessions = Some(active_sessions(&state, user)?);
    }
    Ok(json_response(HttpResponse::Ok(), &v))
}

/// PUT /v3/users/me (the TOTP code of `otp` may come in the `X-OTP` header)
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
    body: Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let mut update = body.0;
    if update.otp.is_none() {
        update.otp = req
            .headers()
            .get("x-otp")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    let updated = users::update_me(&state, &scope, update).await?;
    Ok(json_response(HttpResponse::Ok(), &view(&state, &updated)?))
}

/// The filters of `GET /v3/users` (`x-filter`).
const USER_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "email",
        ops: EQ,
    },
    FilterSpec {
        field: "status",
        ops: EQ_IN_NIN,
    },
    FilterSpec {
        field: "login_profiles",
        ops: EQ,
    },
];

/// GET /v3/users
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, USER_FILTERS)?;
    let page = users::list(&state, &scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(views(&state, &page)?))
}

/// GET /v3/users/{user_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    let mut v = view(&state, &user)?;
    if includes(&req, "active_sessions") {
        // The user itself, or an admin of its account.
        let is_self = !scope.tenant && scope.caller.user_id() == Some(user.id);
        if !(is_self || scope.is_admin()) {
            return Err(crate::error::ApiError::Forbidden(
                "Only administrators may see other users' sessions.".into(),
            ));
        }
        v.active_sessions = Some(active_sessions(&state, &user)?);
    }
    Ok(json_response(HttpResponse::Ok(), &v))
}

/// PUT /v3/users/{user_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
    body: Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    let updated = users::update(&state, &scope, &user, body.0).await?;
    Ok(json_response(HttpResponse::Ok(), &view(&state, &updated)?))
}

/// DELETE /v3/users/{user_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    users::delete(&state, &scope, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v3/accounts/{account_id}/users/{user_id}/validate-email
///
/// The request has no body.
pub async fn validate_email(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    users::validate_email(&state, &scope, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}
