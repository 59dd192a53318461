//! Members of policy groups: `/v3/policy-groups/{group_id}` (POST adds members) and its
//! `/users` and `/api-keys` lists and removals, also under `/v3/accounts/{account_id}`.
//! The rules are in `service::members`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ_IN_NIN};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::views::{apikeys, updated, users};
use crate::error::ApiResult;
use crate::ids::GroupId;
use crate::service::members;
use crate::state::AppState;
use crate::store::groups::{KIND_APIKEY, KIND_USER};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// POST /v3/policy-groups/{group_id}
pub async fn add_subjects(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    members::add_to_group(&state, &scope, &group, &body.0).await?;
    Ok(updated("group", &group.id))
}

/// DELETE /v3/policy-groups/{group_id}/users
pub async fn remove_users(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    members::remove_from_group(&state, &scope, &group, &body.0, KIND_USER).await?;
    Ok(updated("group", &group.id))
}

/// DELETE /v3/policy-groups/{group_id}/api-keys
pub async fn remove_apikeys(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    members::remove_from_group(&state, &scope, &group, &body.0, KIND_APIKEY).await?;
    Ok(updated("group", &group.id))
}

const MEMBER_USER_FILTERS: &[FilterSpec] = &[FilterSpec {
    field: "status",
    ops: EQ_IN_NIN,
}];

/// GET /v3/policy-groups/{group_id}/users
pub async fn users(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<GroupId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    let q = ListQuery::parse(&req, 50, MEMBER_USER_FILTERS)?;
    let page = members::users(&state, &scope, &group, &q.page, &q.filters)?;
    Ok(q.respond(users::views(&state, &page)?))
}

/// GET /v3/policy-groups/{group_id}/api-keys
pub async fn apikeys(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<GroupId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    let q = ListQuery::parse(&req, 50, &[])?;
    let page = members::apikeys(&state, &scope, &group, &q.page)?;
    Ok(q.respond(apikeys::views(&state, page)?))
}
