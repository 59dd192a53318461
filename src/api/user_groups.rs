//! A user's groups: `/v3/users/{user_id}/groups` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/users/{user_id}/groups`.

use super::body::Json;
use super::list::ListQuery;
use super::scope::{AccountScope, AdminScope};
use super::users::{find, UserPath};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::state::AppState;
use crate::store::groups::GroupRecord;
use crate::store::{Order, Page};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// `GroupSummary`. (A local view: the policy-groups module renders the same model.)
#[derive(Serialize)]
pub struct GroupSummaryView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub user_count: u32,
    pub apikey_count: u32,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
}

pub fn group_view(g: &GroupRecord) -> GroupSummaryView {
    GroupSummaryView {
        object: "group",
        id: g.id.hex(),
        account_id: g.account_id.hex(),
        name: g.name.clone(),
        user_count: g.user_count,
        apikey_count: g.apikey_count,
        created_at: rfc3339(g.created_at),
        updated_at: rfc3339(g.updated_at),
        etag: g.etag.to_string(),
    }
}

/// `UpdatedResponse`.
#[derive(Serialize)]
pub struct UpdatedResponse {
    pub code: u16,
    pub id: String,
    pub message: &'static str,
    pub object: &'static str,
    pub request_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

pub fn updated(object: &'static str, id: &Id) -> HttpResponse {
    HttpResponse::Ok().json(UpdatedResponse {
        code: 200,
        id: id.hex(),
        message: "success",
        object,
        request_id: super::request_id::current(),
        kind: "success",
    })
}

/// GET /v3/users/{user_id}/groups
///
/// A user's group list lives in its record (a handful of ids), so a page is cut from it in
/// memory; ids are time-ordered, so sorting them is creation order.
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    path: web::Path<UserPath>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, &[])?;
    let user = find(&state, &scope, &path.user_id)?;
    let mut ids = user.groups.clone();
    ids.sort();
    if q.page.order == Order::Desc {
        ids.reverse();
    }
    let start = match q.page.after {
        Some(after) => ids
            .iter()
            .position(|id| match q.page.order {
                Order::Asc => *id > after,
                Order::Desc => *id < after,
            })
            .unwrap_or(ids.len()),
        None => 0,
    };
    let mut items = Vec::new();
    let rest = &ids[start..];
    for id in rest.iter().take(q.page.limit) {
        if let Some(g) = state.store.groups.get(&scope.id(), id)? {
            items.push(group_view(&g));
        }
    }
    Ok(q.respond(Page {
        has_more: rest.len() > q.page.limit,
        total: Some(ids.len() as u64),
        items,
    }))
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
/// Unknown groups are 400; a group the user is in already is 409; either way nothing changes.
pub async fn add(
    state: web::Data<AppState>,
    scope: AdminScope,
    path: web::Path<UserPath>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = find(&state, &scope, &path.user_id)?;
    let ids = group_ids(&state, &body.0)?;
    let account = scope.id();
    check_groups(&state, &account, &ids)?;
    if let Some(g) = ids.iter().find(|g| user.groups.contains(g)) {
        return Err(ApiError::Conflict(format!(
            "The user is a member of group {g} already."
        )));
    }
    state
        .store
        .users
        .change_groups(&account, &user.id, &ids, &[], Some(scope.admin_group()))?
        .durable()
        .await?;
    Ok(updated("user", &user.id))
}

/// DELETE /v3/users/{user_id}/groups
///
/// Unknown groups are 400. Removing the user from a group it is not in changes nothing and is
/// not an error, so a retried request succeeds. The last member of `Administrators` stays
/// (400).
pub async fn remove(
    state: web::Data<AppState>,
    scope: AdminScope,
    path: web::Path<UserPath>,
    body: Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let user = find(&state, &scope, &path.user_id)?;
    let ids = group_ids(&state, &body.0)?;
    let account = scope.id();
    check_groups(&state, &account, &ids)?;
    let remove: Vec<Id> = ids
        .into_iter()
        .filter(|g| user.groups.contains(g))
        .collect();
    check_not_last_admin(&state, &scope, &remove)?;
    if !remove.is_empty() {
        state
            .store
            .users
            .change_groups(&account, &user.id, &[], &remove, Some(scope.admin_group()))?
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
