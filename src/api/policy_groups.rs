//! Policy groups: `/v3/policy-groups/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/policy-groups/...`. Reading is open to every caller of the
//! account; every change is for admins only. Membership routes are in `group_members`;
//! the rules are in `service::groups`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::views::groups::view;
use super::views::updated;
use crate::error::ApiResult;
use crate::ids::GroupId;
use crate::service::groups::{self, GroupCreate, GroupUpdate};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

const GROUP_FILTERS: &[FilterSpec] = &[FilterSpec {
    field: "name",
    ops: EQ,
}];

/// GET /v3/policy-groups
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, GROUP_FILTERS)?;
    let page = groups::list(&state, &scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.map(|g| view(&g))))
}

/// POST /v3/policy-groups
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: Json<GroupCreate>,
) -> ApiResult<HttpResponse> {
    let created = groups::create(&state, &scope, body.0).await?;
    Ok(HttpResponse::Created().json(view(&created)))
}

/// GET /v3/policy-groups/{group_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<GroupId>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&group)))
}

/// PUT /v3/policy-groups/{group_id}
pub async fn rename(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<GroupUpdate>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    let renamed = groups::rename(&state, &scope, &group, body.0).await?;
    Ok(updated("group", &renamed.id))
}

/// DELETE /v3/policy-groups/{group_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    groups::delete(&state, &scope, &group).await?;
    Ok(HttpResponse::NoContent().finish())
}
