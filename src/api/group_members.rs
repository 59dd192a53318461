//! Members of policy groups: `/v3/policy-groups/{group_id}` (POST adds members) and its
//! `/users` and `/api-keys` lists and removals, also under `/v3/accounts/{account_id}`.
//! Counts live in the group record and change in the same transaction as the members.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ_IN_NIN};
use super::path::PathId;
use super::policy_groups::{page_in_memory, updated};
use super::scope::{AccountScope, AdminScope};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ApiKeyId, GroupId, Id, UserId};
use crate::state::AppState;
use crate::store::filter::Filterable;
use crate::store::groups::{Keep, MemberKind, Subjects, KIND_APIKEY, KIND_USER};
use crate::store::{Page, PageRequest};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// Ids in a membership request: a `SubjectList` object, or (as the API's curl examples
/// send them) a bare array of ids of the kind the route is about.
pub struct SubjectsIn {
    pub users: Vec<UserId>,
    pub apikeys: Vec<ApiKeyId>,
}

/// The ids of array `v`, each once, as ids of the kind `as_kind` names them.
fn id_array<T: Ord>(field: &str, v: &Value, as_kind: fn(Id) -> T) -> ApiResult<Vec<T>> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(ApiError::field(field, "Must be an array of ids.")),
    };
    let mut raw = Vec::with_capacity(items.len());
    for item in items {
        match item.as_str() {
            Some(s) => raw.push(s.to_string()),
            None => return Err(ApiError::field(field, "Must be an array of ids.")),
        }
    }
    let mut ids: Vec<T> = super::validate::ids(field, &raw)?
        .into_iter()
        .map(as_kind)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

impl SubjectsIn {
    /// Reads `body`; a bare array is taken as ids of `array_kind` (`users` or `apikeys`).
    pub fn parse(state: &AppState, body: &Value, array_kind: Option<&str>) -> ApiResult<Self> {
        let users = |field, v| id_array(field, v, UserId::from_id);
        let apikeys = |field, v| id_array(field, v, ApiKeyId::from_id);
        let (users, apikeys) = match (body, array_kind) {
            (Value::Array(_), Some("users")) => (users("users", body)?, Vec::new()),
            (Value::Array(_), Some(_)) => (Vec::new(), apikeys("apikeys", body)?),
            (Value::Object(map), _) => (
                users("users", map.get("users").unwrap_or(&Value::Null))?,
                apikeys("apikeys", map.get("apikeys").unwrap_or(&Value::Null))?,
            ),
            _ => {
                return Err(ApiError::BadRequest(
                    "The body must be an object with 'users' and/or 'apikeys' arrays.".into(),
                ))
            }
        };
        let max = state.config.limits.max_ids_per_request;
        if users.len() + apikeys.len() > max {
            return Err(ApiError::field(
                if users.len() > max {
                    "users"
                } else {
                    "apikeys"
                },
                format!("At most {max} ids are accepted in one request."),
            ));
        }
        Ok(SubjectsIn { users, apikeys })
    }

    /// The store's (untyped) form.
    pub fn into_subjects(self) -> Subjects {
        Subjects {
            users: self.users.into_iter().map(Id::from).collect(),
            apikeys: self.apikeys.into_iter().map(Id::from).collect(),
        }
    }
}

/// POST /v3/policy-groups/{group_id}
pub async fn add_subjects(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let group = id.find(&state, &scope)?;
    let subjects = SubjectsIn::parse(&state, &body.0, None)?;
    if subjects.users.is_empty() && subjects.apikeys.is_empty() {
        return Err(ApiError::field(
            "users",
            "Name at least one user or API key to add.",
        ));
    }
    state
        .store
        .groups
        .add_members(&scope.id(), &group.id, &subjects.into_subjects())?
        .durable()
        .await?;
    Ok(updated("group", &group.id))
}

/// Removes the subjects of one kind named in `body` from group `id`.
async fn remove_subjects(
    state: &AppState,
    scope: &AccountScope,
    id: PathId<GroupId>,
    body: &Value,
    kind: MemberKind,
) -> ApiResult<HttpResponse> {
    let group = id.find(state, scope)?;
    let field = if kind == KIND_USER {
        "users"
    } else {
        "apikeys"
    };
    let mut subjects = SubjectsIn::parse(state, body, Some(field))?;
    if kind == KIND_USER {
        subjects.apikeys.clear();
    } else {
        subjects.users.clear();
    }
    if subjects.users.is_empty() && subjects.apikeys.is_empty() {
        return Err(ApiError::field(
            field,
            "Name at least one member to remove.",
        ));
    }
    let admins = group.id == scope.admin_group();
    if admins {
        refuse_self_removal(scope, &subjects.users, &subjects.apikeys, field)?;
    }
    // The document refuses removing the last user of Administrators on the tenant routes;
    // on the own account's, the caller cannot remove itself (above), and keys may remain.
    let keep = match (admins, scope.tenant) {
        (false, _) => Keep::Anything,
        (true, false) => Keep::AMember,
        (true, true) => Keep::AUser,
    };
    state
        .store
        .groups
        .remove_members(&scope.id(), &group.id, &subjects.into_subjects(), keep)?
        .durable()
        .await?;
    Ok(updated("group", &group.id))
}

/// Refuses (400 on `field`) a removal from `Administrators` that names the caller: its user
/// or the key it calls with. Every route that takes members out of the group uses this, so
/// they all refuse alike.
pub fn refuse_self_removal(
    scope: &AccountScope,
    users: &[UserId],
    apikeys: &[ApiKeyId],
    field: &str,
) -> ApiResult<()> {
    // Through the tenant routes of the caller's own account the caller is a member too.
    if scope.caller.account_id() != scope.id() {
        return Ok(());
    }
    if scope.caller.user_id().is_some_and(|u| users.contains(&u))
        || apikeys.contains(&scope.caller.apikey.id)
    {
        return Err(ApiError::field(
            field,
            "You cannot remove yourself from the Administrators group.",
        ));
    }
    Ok(())
}

/// DELETE /v3/policy-groups/{group_id}/users
pub async fn remove_users(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    remove_subjects(&state, &scope, id, &body.0, KIND_USER).await
}

/// DELETE /v3/policy-groups/{group_id}/api-keys
pub async fn remove_apikeys(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<GroupId>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    remove_subjects(&state, &scope, id, &body.0, KIND_APIKEY).await
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
    let account = scope.id();
    // Unfiltered pages are range scans of the membership index; a status filter needs the
    // member records, so it reads them all and pages in memory.
    let request = if q.is_filtered() {
        PageRequest::all()
    } else {
        q.page.clone()
    };
    let ids = state
        .store
        .groups
        .members(&account, &group.id, KIND_USER, &request)?;
    let mut users = Vec::with_capacity(ids.items.len());
    for id in &ids.items {
        if let Some(u) = state.store.users.get(&account, id)? {
            if u.matches(&q.filters) {
                users.push(u);
            }
        }
    }
    let page = if q.is_filtered() {
        page_in_memory(users, |u| u.id.id(), &q.page)
    } else {
        Page {
            items: users,
            has_more: ids.has_more,
            total: ids.total,
        }
    };
    Ok(q.respond(page.try_map_ref(|u| super::users::view(&state, u))?))
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
    let account = scope.id();
    let ids = state
        .store
        .groups
        .members(&account, &group.id, KIND_APIKEY, &q.page)?;
    let mut views = Vec::with_capacity(ids.items.len());
    for id in &ids.items {
        if let Some(k) = state.store.apikeys.get(&account, id)? {
            views.push(super::apikeys::view(&state, &k, None)?);
        }
    }
    Ok(q.respond(Page {
        items: views,
        has_more: ids.has_more,
        total: ids.total,
    }))
}
