//! The groups of an API key: `/v3/api-keys/{apikey_id}/groups` (also under
//! `/v3/accounts/{account_id}`) and `/v3/api-keys/me/groups`. Who may move which key into
//! which group is decided in `service::members::change_key_groups`.

use super::body::Json;
use super::list::ListQuery;
use super::path::PathId;
use super::scope::AccountScope;
use super::views::{groups, updated};
use crate::error::ApiResult;
use crate::ids::ApiKeyId;
use crate::service::members::{change_key_groups, KeyRoute};
use crate::service::{self, apikeys};
use crate::state::AppState;
use crate::store::apikeys::ApiKeyRecord;
use actix_web::{web, HttpRequest, HttpResponse};

fn list(state: &AppState, key: &ApiKeyRecord, req: &HttpRequest) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(req, 50, &[])?;
    let page = service::groups::page_of(state, &key.account_id, &key.groups, &q.page)?;
    Ok(q.respond(page.map(|g| groups::view(&g))))
}

async fn change(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    body: &[String],
    add: bool,
    route: KeyRoute,
) -> ApiResult<HttpResponse> {
    change_key_groups(state, scope, key, body, add, route).await?;
    Ok(updated("api-key", &key.id))
}

/// GET /v3/api-keys/{apikey_id}/groups
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    list(&state, &key, &req)
}

/// POST /v3/api-keys/{apikey_id}/groups
pub async fn add(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    change(&state, &scope, &key, &body.0, true, KeyRoute::ById).await
}

/// DELETE /v3/api-keys/{apikey_id}/groups
pub async fn remove(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    change(&state, &scope, &key, &body.0, false, KeyRoute::ById).await
}

/// GET /v3/api-keys/me/groups
pub async fn get_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let key = apikeys::me(&state, &scope)?;
    list(&state, &key, &req)
}

/// POST /v3/api-keys/me/groups
pub async fn add_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = apikeys::me(&state, &scope)?;
    change(&state, &scope, &key, &body.0, true, KeyRoute::Me).await
}

/// DELETE /v3/api-keys/me/groups
pub async fn remove_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = apikeys::me(&state, &scope)?;
    change(&state, &scope, &key, &body.0, false, KeyRoute::Me).await
}
