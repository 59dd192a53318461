//! The groups of an API key: `/v3/api-keys/{apikey_id}/groups` (also under
//! `/v3/accounts/{account_id}`) and `/v3/api-keys/me/groups`.
//!
//! Admins may move any key in or out of any group. Other callers may change only keys they
//! own, only into groups their user belongs to, and never touch `Administrators`.
//!
//! An unknown group is 404 on the by-id routes (the document's "A group or API key with that
//! ID does not exist") and 400 on `/me/groups`, whose spec lists no 404. Removing no groups
//! (`[]`) is a no-op, so a client with nothing to remove need not special-case it.

use super::apikeys::{check_group_rights, require_owner};
use super::body::Json;
use super::list::ListQuery;
use super::path::PathId;
use super::policy_groups::{groups_page, updated};
use super::scope::AccountScope;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ApiKeyId, Id};
use crate::state::AppState;
use crate::store::apikeys::ApiKeyRecord;
use actix_web::{web, HttpRequest, HttpResponse};

fn me(state: &AppState, scope: &AccountScope) -> ApiResult<ApiKeyRecord> {
    // A person's session has no key of its own.
    let key = scope
        .caller
        .apikey
        .as_ref()
        .ok_or_else(|| ApiError::not_found("API key"))?;
    state
        .store
        .apikeys
        .get(&key.account_id, &key.id)?
        .ok_or_else(|| ApiError::not_found("API key"))
}

/// The group ids of a membership request body (an array of ids), deduplicated.
fn group_ids(state: &AppState, body: &[String]) -> ApiResult<Vec<Id>> {
    let mut ids = super::validate::ids("groups", body)?;
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(ApiError::field("groups", "Name at least one group."));
    }
    let max = state.config.limits.max_ids_per_request;
    if ids.len() > max {
        return Err(ApiError::field(
            "groups",
            format!("At most {max} ids are accepted in one request."),
        ));
    }
    Ok(ids)
}

fn list(state: &AppState, key: &ApiKeyRecord, req: &HttpRequest) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(req, 50, &[])?;
    groups_page(state, &key.account_id, &key.groups, &q)
}

/// Which key a membership route names: the caller's own (`/me/groups`) or one by id.
#[derive(PartialEq)]
enum Route {
    Me,
    ById,
}

async fn change(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    groups: &[String],
    add: bool,
    route: Route,
) -> ApiResult<HttpResponse> {
    require_owner(scope, key)?;
    if !add && groups.is_empty() {
        return Ok(updated("api-key", &key.id));
    }
    let ids = group_ids(state, groups)?;
    if route == Route::ById {
        super::policy_groups::require_groups(state, &scope.id(), &ids)?;
    }
    if add {
        check_group_rights(state, scope, &ids, &[])?;
    } else {
        check_group_rights(state, scope, &[], &ids)?;
    }
    let (add_ids, remove_ids): (&[Id], &[Id]) = if add { (&ids, &[]) } else { (&[], &ids) };
    state
        .store
        .apikeys
        .change_groups(
            &scope.id(),
            &key.id,
            add_ids,
            remove_ids,
            Some(scope.admin_group().id()),
        )?
        .durable()
        .await?;
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
    change(&state, &scope, &key, &body.0, true, Route::ById).await
}

/// DELETE /v3/api-keys/{apikey_id}/groups
pub async fn remove(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    change(&state, &scope, &key, &body.0, false, Route::ById).await
}

/// GET /v3/api-keys/me/groups
pub async fn get_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let key = me(&state, &scope)?;
    list(&state, &key, &req)
}

/// POST /v3/api-keys/me/groups
pub async fn add_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = me(&state, &scope)?;
    change(&state, &scope, &key, &body.0, true, Route::Me).await
}

/// DELETE /v3/api-keys/me/groups
pub async fn remove_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let key = me(&state, &scope)?;
    change(&state, &scope, &key, &body.0, false, Route::Me).await
}
