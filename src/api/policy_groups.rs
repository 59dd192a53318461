//! Policy groups: `/v3/policy-groups/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/policy-groups/...`. Reading is open to every caller of the
//! account; every change is for admins only.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ, EQ_IN_NIN};
use super::scope::{AccountScope, AdminScope};
use super::validate::Checks;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::state::AppState;
use crate::store::groups::{GroupRecord, Subjects, KIND_APIKEY, KIND_USER};
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
    let page = page_in_memory(groups, |g| g.id, &q.page);
    Ok(q.respond(page.map(|g| view(&g))))
}

/// Ids in a membership request: a `SubjectList` object, or (as the API's curl examples
/// send them) a bare array of ids of the kind the route is about.
pub struct SubjectsIn {
    pub users: Vec<Id>,
    pub apikeys: Vec<Id>,
}

fn id_array(field: &str, v: &Value) -> ApiResult<Vec<Id>> {
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
    let mut ids = super::validate::ids(field, &raw)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

impl SubjectsIn {
    /// Reads `body`; a bare array is taken as ids of `array_kind` (`users` or `apikeys`).
    pub fn parse(state: &AppState, body: &Value, array_kind: Option<&str>) -> ApiResult<Self> {
        let (users, apikeys) = match (body, array_kind) {
            (Value::Array(_), Some("users")) => (id_array("users", body)?, Vec::new()),
            (Value::Array(_), Some(_)) => (Vec::new(), id_array("apikeys", body)?),
            (Value::Object(map), _) => (
                id_array("users", map.get("users").unwrap_or(&Value::Null))?,
                id_array("apikeys", map.get("apikeys").unwrap_or(&Value::Null))?,
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
                if users.len() > max { "users" } else { "apikeys" },
                format!("At most {max} ids are accepted in one request."),
            ));
        }
        Ok(SubjectsIn { users, apikeys })
    }

    fn into_subjects(self) -> Subjects {
        Subjects {
            users: self.users,
            apikeys: self.apikeys,
        }
    }
}

#[derive(Deserialize)]
pub struct GroupPath {
    pub group_id: String,
}

/// A group id from the path: malformed ids are unknown ids (404).
fn find(state: &AppState, scope: &AccountScope, raw: &str) -> ApiResult<GroupRecord> {
    let id = Id::parse(raw).ok_or_else(|| ApiError::not_found("Group"))?;
    state
        .store
        .groups
        .get(&scope.id(), &id)?
        .ok_or_else(|| ApiError::not_found("Group"))
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
    let keep = |g: &GroupRecord| {
        q.accepts(|f| match f {
            "name" => vec![g.name.clone()],
            _ => Vec::new(),
        })
    };
    let page = state.store.groups.list(
        &scope.id(),
        &q.page,
        q.is_filtered()
            .then_some(&keep as &dyn Fn(&GroupRecord) -> bool),
    )?;
    Ok(q.respond(page.map(|g| view(&g))))
}

fn check_name(name: Option<&str>) -> ApiResult<String> {
    let mut c = Checks::new();
    match name {
        Some(n) => {
            c.not_blank("name", n);
            c.max_len("name", Some(n), 100);
        }
        None => c.fail("name", "Is required."),
    }
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
        Some(v @ Value::Object(_)) => SubjectsIn::parse(&state, v, None)?.into_subjects(),
        Some(_) => {
            return Err(ApiError::field(
                "members",
                "Must be an object with 'users' and/or 'apikeys' arrays.",
            ))
        }
    };
    let group = GroupRecord::new(scope.id(), &name);
    let created = state.store.groups.create(group, &members)?.durable().await?;
    Ok(HttpResponse::Created().json(view(&created)))
}

/// GET /v3/policy-groups/{group_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    path: web::Path<GroupPath>,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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
    path: web::Path<GroupPath>,
    body: Json<GroupUpdate>,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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
    path: web::Path<GroupPath>,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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

/// POST /v3/policy-groups/{group_id}
pub async fn add_subjects(
    state: web::Data<AppState>,
    scope: AdminScope,
    path: web::Path<GroupPath>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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

/// Removes the subjects of one kind named in `body` from the group in `path`.
async fn remove_subjects(
    state: &AppState,
    scope: &AccountScope,
    group_id: &str,
    body: &Value,
    kind: u8,
) -> ApiResult<HttpResponse> {
    let group = find(state, scope, group_id)?;
    let field = if kind == KIND_USER { "users" } else { "apikeys" };
    let parsed = SubjectsIn::parse(state, body, Some(field))?;
    let subjects = if kind == KIND_USER {
        Subjects {
            users: parsed.users,
            apikeys: Vec::new(),
        }
    } else {
        Subjects {
            users: Vec::new(),
            apikeys: parsed.apikeys,
        }
    };
    if subjects.users.is_empty() && subjects.apikeys.is_empty() {
        return Err(ApiError::field(field, "Name at least one member to remove."));
    }
    let admins = group.id == scope.admin_group();
    // Through the tenant routes of the caller's own account the caller is a member too.
    if admins && scope.caller.account_id() == scope.id() {
        let own_user = scope.caller.user_id();
        if own_user.is_some_and(|u| subjects.users.contains(&u))
            || subjects.apikeys.contains(&scope.caller.apikey.id)
        {
            return Err(ApiError::field(
                field,
                "You cannot remove yourself from the Administrators group.",
            ));
        }
    }
    state
        .store
        .groups
        .remove_members(&scope.id(), &group.id, &subjects, admins)?
        .durable()
        .await?;
    Ok(updated("group", &group.id))
}

/// DELETE /v3/policy-groups/{group_id}/users
pub async fn remove_users(
    state: web::Data<AppState>,
    scope: AdminScope,
    path: web::Path<GroupPath>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    remove_subjects(&state, &scope, &path.group_id, &body.0, KIND_USER).await
}

/// DELETE /v3/policy-groups/{group_id}/api-keys
pub async fn remove_apikeys(
    state: web::Data<AppState>,
    scope: AdminScope,
    path: web::Path<GroupPath>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    remove_subjects(&state, &scope, &path.group_id, &body.0, KIND_APIKEY).await
}

const MEMBER_USER_FILTERS: &[FilterSpec] = &[FilterSpec {
    field: "status",
    ops: EQ_IN_NIN,
}];

/// GET /v3/policy-groups/{group_id}/users
pub async fn users(
    state: web::Data<AppState>,
    scope: AccountScope,
    path: web::Path<GroupPath>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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
            if q.accepts(|f| match f {
                "status" => vec![u.status.clone()],
                _ => Vec::new(),
            }) {
                users.push(u);
            }
        }
    }
    let page = if q.is_filtered() {
        page_in_memory(users, |u| u.id, &q.page)
    } else {
        Page {
            items: users,
            has_more: ids.has_more,
            total: ids.total,
        }
    };
    let mut views = Vec::with_capacity(page.items.len());
    for u in &page.items {
        views.push(super::users::view(&state, u)?);
    }
    Ok(q.respond(Page {
        items: views,
        has_more: page.has_more,
        total: page.total,
    }))
}

/// GET /v3/policy-groups/{group_id}/api-keys
pub async fn apikeys(
    state: web::Data<AppState>,
    scope: AccountScope,
    path: web::Path<GroupPath>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let group = find(&state, &scope, &path.group_id)?;
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
