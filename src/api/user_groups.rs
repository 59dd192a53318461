//! A user's groups: `/v3/users/{user_id}/groups` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/users/{user_id}/groups`. The rules are in `service::members`.

use super::body::Json;
use super::list::ListQuery;
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::views::{groups, updated};
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::service::{self, members};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// GET /v3/users/{user_id}/groups
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, &[])?;
    let user = id.find(&state, &scope)?;
    let page = service::groups::page_of(&state, &scope.id(), &user.groups, &q.page)?;
    Ok(q.respond(page.map(|g| groups::view(&g))))
}

/// POST /v3/users/{user_id}/groups
pub async fn add(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    members::add_user_to_groups(&state, &scope, &user, &body.0).await?;
    Ok(updated("user", &user.id))
}

/// DELETE /v3/users/{user_id}/groups
pub async fn remove(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    members::remove_user_from_groups(&state, &scope, &user, &body.0).await?;
    Ok(updated("user", &user.id))
}
