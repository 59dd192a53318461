//! Policy groups: `/v3/policy-groups/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/policy-groups/...`. Reading is open to every caller of the
//! account; every change is for admins only. Membership routes are in `group_members`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::validate::Checks;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::{GroupId, Id};
use crate::state::AppState;
use crate::store::groups::{GroupRecord, Subjects};
use crate::store::{Order, Page, PageRequest};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GroupSummary`.
#[derive(Serialize)]
pub struct GroupView {
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

pub fn view(g: &GroupRecord) -> GroupView {
    GroupView {
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

/// `UpdatedResponse`: the answer of membership changes and renames.
#[derive(Serialize)]
struct UpdatedResponse {
    code: u16,
    id: String,
    message: &'static str,
    object: &'static str,
    request_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A 200 `UpdatedResponse` about entity `id` of kind `object` (`group`, `api-key`, ...).
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

/// Groups named on a membership route (`/users/{id}/groups`, `/api-keys/{id}/groups`) must
/// exist in the account: 404 otherwise, as the document lists ("A group ... with that ID
/// does not exist"). Request bodies that merely carry `groups` answer 400 instead.
pub fn require_groups(state: &AppState, account: &Id, groups: &[Id]) -> ApiResult<()> {
    for g in groups {
        if state.store.groups.get(account, g)?.is_none() {
            return Err(ApiError::NotFound(format!(
                "A group with that ID does not exist: {g}."
            )));
        }
    }
    Ok(())
}

/// Pages records already in memory (membership lists held in a record, or filtered
/// members) with the same cursor rules as the store's range scans.
pub fn page_in_memory<T>(mut items: Vec<T>, id: impl Fn(&T) -> Id, page: &PageRequest) -> Page<T> {
    items.sort_by_key(|t| id(t));
    items.dedup_by_key(|t| id(t));
    let total = items.len() as u64;
    if page.order == Order::Desc {
        items.reverse();
    }
    let start = match page.after {
        Some(after) => items
            .iter()
            .position(|t| match page.order {
                Order::Asc => id(t) > after,
                Order::Desc => id(t) < after,
            })
            .unwrap_or(items.len()),
        None => 0,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let has_more = rest.len() > page.limit;
    rest.truncate(page.limit);
    Page {
        items: rest,
        has_more,
        total: Some(total),
    }
}

/// A page of the groups named by `ids` (a member's group list) as `GroupSummary` views.
pub fn groups_page(
    state: &AppState,
    account: &Id,
    ids: &[Id],
    q: &ListQuery,
) -> ApiResult<HttpResponse> {
    let mut groups = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(g) = state.store.groups.get(account, id)? {
            groups.push(g);
        }
    }
    let page = page_in_memory(groups, |g| g.id.id(), &q.page);
    Ok(q.respond(page.map(|g| view(&g))))
}

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
    let page = state.store.groups.list(&scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.map(|g| view(&g))))
}

fn check_name(name: Option<&str>) -> ApiResult<String> {
    let mut c = Checks::new();
    c.required_text("name", name, 100, "Is required.");
    c.finish()?;
    Ok(name.unwrap_or_default().to_string())
}

/// `GroupCreationInfo`.
#[derive(Deserialize)]
pub struct GroupCreate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub members: Option<Value>,
}

/// POST /v3/policy-groups
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: Json<GroupCreate>,
) -> ApiResult<HttpResponse> {
    let name = check_name(body.0.name.as_deref())?;
    let members = match &body.0.members {
        None | Some(Value::Null) => Subjects::default(),
        Some(v @ Value::Object(_)) => {
            super::group_members::SubjectsIn::parse(&state, v, None)?.into_subjects()
        }
        Some(_) => {
            return Err(ApiError::field(
                "members",
                "Must be an object with 'users' and/or 'apikeys' arrays.",
            ))
        }
    };
    let group = GroupRecord::new(GroupId::new(), scope.id(), &name);
    let created = state
        .store
        .groups
        .create(group, &members)?
        .durable()
        .await?;
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

/// `GroupUpdateInfo`.
#[derive(Deserialize)]
pub struct GroupUpdate {
    #[serde(default)]
    pub name: Option<String>,
}

/// PUT /v3/policy-groups/{group_id}
///
/// The spec lists no 409 here, so a taken name is a 400 on `name`. `Administrators` keeps
/// its name: it is how people and tools recognise the admin group.
pub async fn rename(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<GroupUpdate>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    let name = check_name(body.0.name.as_deref())?;
    if group.id == scope.admin_group() && name != group.name {
        return Err(ApiError::Forbidden(
            "The Administrators group cannot be renamed.".into(),
        ));
    }
    let renamed = match state.store.groups.rename(&scope.id(), &group.id, &name) {
        Err(crate::store::StoreError::Conflict(message)) => {
            return Err(ApiError::field("name", message))
        }
        other => other?.durable().await?,
    };
    Ok(updated("group", &renamed.id))
}

/// DELETE /v3/policy-groups/{group_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    if group.id == scope.admin_group() {
        return Err(ApiError::Forbidden(
            "The Administrators group cannot be deleted.".into(),
        ));
    }
    state
        .store
        .groups
        .delete(&scope.id(), &group.id)?
        .durable()
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(limit: usize, after: Option<Id>, order: Order) -> PageRequest {
        PageRequest {
            limit,
            after,
            order,
            want_total: true,
        }
    }

    #[test]
    fn in_memory_pages_follow_the_cursor() {
        let mut ids: Vec<Id> = (0..5).map(|_| Id::new()).collect();
        ids.sort();
        let shuffled = vec![ids[3], ids[0], ids[4], ids[1], ids[2], ids[0]];
        let first = page_in_memory(shuffled.clone(), |i| *i, &req(2, None, Order::Asc));
        assert_eq!(first.items, ids[..2].to_vec());
        assert!(first.has_more);
        assert_eq!(first.total, Some(5));
        let next = page_in_memory(shuffled.clone(), |i| *i, &req(2, Some(ids[1]), Order::Asc));
        assert_eq!(next.items, ids[2..4].to_vec());
        let last = page_in_memory(shuffled.clone(), |i| *i, &req(2, Some(ids[3]), Order::Asc));
        assert_eq!((last.items, last.has_more), (vec![ids[4]], false));
        let desc = page_in_memory(shuffled.clone(), |i| *i, &req(3, Some(ids[3]), Order::Desc));
        assert_eq!(desc.items, vec![ids[2], ids[1], ids[0]]);
        assert!(!desc.has_more);
        let none = page_in_memory(shuffled, |i| *i, &req(2, Some(ids[4]), Order::Asc));
        assert!(none.items.is_empty());
    }
}
