//! A user's groups: `/v3/users/{user_id}/groups` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/users/{user_id}/groups`.

use super::body::Json;
use super::list::ListQuery;
use super::path::PathId;
use super::policy_groups::{groups_page, require_groups, updated};
use super::scope::{AccountScope, AdminScope};
use crate::error::{ApiError, ApiResult};
use crate::ids::{Id, UserId};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// GET /v3/users/{user_id}/groups
///
/// A user's group list lives in its record (a handful of ids), so a page is cut from it in
/// memory; ids are time-ordered, so sorting them is creation order.
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, &[])?;
    let user = id.find(&state, &scope)?;
    groups_page(&state, &scope.id(), &user.groups, &q)
}

/// The body of the membership routes: group ids, at least one, at most the configured limit.
fn group_ids(state: &AppState, raw: &[String]) -> ApiResult<Vec<Id>> {
    if raw.is_empty() {
        return Err(ApiError::BadRequest(
            "The body must list at least one group id.".into(),
        ));
    }
    let max = state.config.limits.max_ids_per_request;
    if raw.len() > max {
        return Err(ApiError::BadRequest(format!(
            "At most {max} group ids per request."
        )));
    }
    let mut ids = super::validate::ids("groups", raw)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// POST /v3/users/{user_id}/groups
///
/// Unknown groups are 404; a group the user is in already is 409; either way nothing changes.
pub async fn add(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    let ids = group_ids(&state, &body.0)?;
    let account = scope.id();
    require_groups(&state, &account, &ids)?;
    if let Some(g) = ids.iter().find(|g| user.groups.contains(g)) {
        return Err(ApiError::Conflict(format!(
            "The user is a member of group {g} already."
        )));
    }
    state
        .store
        .users
        .change_groups(
            &account,
            &user.id,
            &ids,
            &[],
            Some(scope.admin_group().id()),
        )?
        .durable()
        .await?;
    Ok(updated("user", &user.id))
}

/// DELETE /v3/users/{user_id}/groups
///
/// Unknown groups are 404. Removing the user from a group it is not in, or from no group
/// (`[]`), changes nothing and is not an error, so a retried request succeeds. The last
/// member of `Administrators` stays (400).
pub async fn remove(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    if body.0.is_empty() {
        return Ok(updated("user", &user.id));
    }
    let ids = group_ids(&state, &body.0)?;
    let account = scope.id();
    require_groups(&state, &account, &ids)?;
    let remove: Vec<Id> = ids
        .into_iter()
        .filter(|g| user.groups.contains(g))
        .collect();
    check_not_last_admin(&state, &scope, &remove)?;
    if remove.contains(&scope.admin_group()) {
        super::group_members::refuse_self_removal(&scope, &[user.id], &[], "groups")?;
    }
    if !remove.is_empty() {
        state
            .store
            .users
            .change_groups(
                &account,
                &user.id,
                &[],
                &remove,
                Some(scope.admin_group().id()),
            )?
            .durable()
            .await?;
    }
    Ok(updated("user", &user.id))
}

/// Groups named in a request must exist in the account: 400 naming `groups` otherwise.
pub fn check_groups(state: &AppState, account: &Id, groups: &[Id]) -> ApiResult<()> {
    for g in groups {
        if state.store.groups.get(account, g)?.is_none() {
            return Err(ApiError::field(
                "groups",
                format!("Group {g} does not exist."),
            ));
        }
    }
    Ok(())
}

/// The `Administrators` group must keep a member: refuses (400) a removal that would empty it.
/// The store enforces this too; checking first keeps a multi-step update from half-applying.
pub fn check_not_last_admin(
    state: &AppState,
    scope: &AccountScope,
    remove: &[Id],
) -> ApiResult<()> {
    let admins = scope.admin_group();
    if !remove.contains(&admins) {
        return Ok(());
    }
    match state.store.groups.get(&scope.id(), &admins)? {
        Some(g) if g.user_count + g.apikey_count <= 1 => Err(ApiError::field(
            "groups",
            "The last member of the Administrators group cannot be removed.",
        )),
        _ => Ok(()),
    }
}
