//! API keys: `/v3/api-keys/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/api-keys/...`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery};
use super::path::PathId;
use super::scope::AccountScope;
use super::validate::Checks;
use crate::auth::apikey;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ApiKeyId, Id, UserId};
use crate::state::AppState;
use crate::status::ApiKeyStatus;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::filter::{Filter, Op};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// `ApiKeyInfoResp`.
#[derive(Serialize)]
pub struct ApiKeyView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// The full key only in the responses that create it or reset its secret; otherwise
    /// the non-secret part.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub status: ApiKeyStatus,
    pub groups: Vec<String>,
    pub created_at: String,
    pub creation_time: i64,
    pub updated_at: String,
    /// 0 until the key is first used (the document's examples always carry it).
    pub last_login_time: i64,
    pub etag: String,
}

pub fn view(state: &AppState, k: &ApiKeyRecord, full_key: Option<&str>) -> ApiResult<ApiKeyView> {
    Ok(ApiKeyView {
        object: "api-key",
        id: k.id.hex(),
        account_id: k.account_id.hex(),
        name: k.name.clone(),
        key: full_key
            .map(str::to_string)
            .unwrap_or_else(|| apikey::public_part(&k.account_id, &k.id)),
        owner: k.owner.map(|o| o.hex()),
        status: k.status,
        groups: k.groups.iter().map(Id::hex).collect(),
        created_at: rfc3339(k.created_at),
        creation_time: k.created_at,
        updated_at: rfc3339(k.updated_at),
        last_login_time: state
            .store
            .last_login
            .get(&k.account_id, &k.id)?
            .unwrap_or(0),
        etag: k.etag.to_string(),
    })
}

/// `ApiKeyUpdateReq`, also accepting the whole `ApiKeyInfoResp` that clients echo back.
/// `name` is required (the document: "400 ... missing display name").
#[derive(Deserialize, Default, Clone)]
pub struct ApiKeyUpdate {
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

impl ApiKeyUpdate {
    /// Checks every field at once; returns the status the update sets, if any.
    pub fn validate(&self) -> ApiResult<Option<ApiKeyStatus>> {
        let mut c = Checks::new();
        c.not_blank("name", &self.name);
        c.text("name", Some(&self.name), 100);
        let status = c.choice("status", self.status.as_deref());
        if let Some(owner) = &self.owner {
            c.check(Id::parse(owner).is_some(), "owner", "Must be a user id.");
        }
        c.finish()?;
        Ok(status)
    }
}

fn me(state: &AppState, scope: &AccountScope) -> ApiResult<ApiKeyRecord> {
    let key = &scope.caller.apikey;
    state
        .store
        .apikeys
        .get(&key.account_id, &key.id)?
        .ok_or_else(|| ApiError::not_found("API key"))
}

/// GET /v3/api-keys/me
pub async fn get_me(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    let key = me(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &key, None)?))
}

/// PUT /v3/api-keys/me
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<ApiKeyUpdate>,
) -> ApiResult<HttpResponse> {
    let key = me(&state, &scope)?;
    update_key(&state, &scope, &key, body.0).await
}

/// Applies an update to `key` after checking fields and rights; shared by the `me` and
/// by-id routes. Only admins change `owner`, `status` and group membership; echoing the
/// current values is fine for anyone.
pub async fn update_key(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    update: ApiKeyUpdate,
) -> ApiResult<HttpResponse> {
    let status = update.validate()?;
    let owner = update.owner.as_deref().and_then(UserId::parse);
    let wanted_groups = update
        .groups
        .as_ref()
        .map(|g| group_list(state, g))
        .transpose()?;
    let (add, remove): (Vec<Id>, Vec<Id>) = match &wanted_groups {
        Some(wanted) => (
            wanted
                .iter()
                .filter(|g| !key.groups.contains(g))
                .copied()
                .collect(),
            key.groups
                .iter()
                .filter(|g| !wanted.contains(g))
                .copied()
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    if !scope.is_admin() {
        let changes_owner = owner.is_some_and(|o| Some(o) != key.owner);
        let changes_status = status.is_some_and(|s| s != key.status);
        if changes_owner || changes_status {
            return Err(ApiError::Forbidden(
                "Only administrators may change a key's owner or status.".into(),
            ));
        }
        check_group_rights(state, scope, &add, &remove)?;
    }
    let account = scope.id();
    // Inputs only the store can check are checked first, and the group change (which may
    // be refused for the last admin) runs before the field update, so that a refused
    // request changes nothing.
    if let Some(o) = owner.filter(|o| Some(*o) != key.owner) {
        if state.store.users.get(&account, &o)?.is_none() {
            return Err(ApiError::field(
                "owner",
                format!("User {o} does not exist."),
            ));
        }
    }
    if !add.is_empty() || !remove.is_empty() {
        state
            .store
            .apikeys
            .change_groups(
                &account,
                &key.id,
                &add,
                &remove,
                Some(scope.admin_group().id()),
            )?
            .durable()
            .await?;
    }
    let updated = state
        .store
        .apikeys
        .update(&account, &key.id, &|k| {
            k.name = update.name.clone();
            if let Some(status) = status {
                k.status = status;
            }
            if owner.is_some() {
                k.owner = owner;
            }
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok().json(view(state, &updated, None)?))
}

/// `ApiKeyInfoReq`.
#[derive(Deserialize)]
pub struct ApiKeyCreate {
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

/// POST /v3/api-keys
///
/// The owner defaults to the caller's user; on the tenant route there is no default (the
/// document: "There is no default value for the owner ID"). Non-admins may only create keys
/// they own, in groups they belong to themselves, and never in `Administrators`.
pub async fn create(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<ApiKeyCreate>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let mut c = Checks::new();
    c.not_blank("name", &req.name);
    c.text("name", Some(&req.name), 100);
    let status = c
        .choice("status", req.status.as_deref())
        .unwrap_or(ApiKeyStatus::Active);
    c.finish()?;
    let account = scope.id();
    let owner = match req.owner.as_deref() {
        Some(raw) => {
            Some(UserId::parse(raw).ok_or_else(|| ApiError::field("owner", "Must be a user id."))?)
        }
        None if scope.tenant => None,
        None => scope.caller.user_id(),
    };
    let groups = group_list(&state, req.groups.as_deref().unwrap_or_default())?;
    if !scope.is_admin() {
        let own_user = scope.caller.user_id();
        if owner != own_user || status != ApiKeyStatus::Active {
            return Err(ApiError::Forbidden(
                "Only administrators may create keys for other users or inactive keys.".into(),
            ));
        }
        check_group_rights(&state, &scope, &groups, &[])?;
    }
    if let Some(o) = owner {
        if state.store.users.get(&account, &o)?.is_none() {
            return Err(ApiError::field(
                "owner",
                format!("User {o} does not exist."),
            ));
        }
    }
    let now = crate::clock::now_millis();
    let id = ApiKeyId::new();
    let issued = apikey::issue(&account, &id);
    let record = ApiKeyRecord {
        id,
        account_id: account,
        name: req.name,
        owner,
        status,
        key_digest: issued.digest,
        groups,
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    let created = state.store.apikeys.create(record)?.durable().await?;
    Ok(HttpResponse::Created()
        .insert_header(super::headers::no_store())
        .json(view(&state, &created, Some(&issued.full))?))
}

/// The `groups` of a create or update body: valid ids, each once, within the request limit.
fn group_list(state: &AppState, raw: &[String]) -> ApiResult<Vec<Id>> {
    let mut ids = super::validate::ids("groups", raw)?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    let max = state.config.limits.max_ids_per_request;
    if ids.len() > max {
        return Err(ApiError::field(
            "groups",
            format!("At most {max} ids are accepted in one request."),
        ));
    }
    Ok(ids)
}

/// Group changes a caller without admin rights may make to a key it owns: only into groups
/// its user belongs to, and never in or out of `Administrators`.
pub fn check_group_rights(
    state: &AppState,
    scope: &AccountScope,
    add: &[Id],
    remove: &[Id],
) -> ApiResult<()> {
    if scope.is_admin() {
        return Ok(());
    }
    if add.iter().chain(remove).any(|g| *g == *scope.admin_group()) {
        return Err(ApiError::Forbidden(
            "Only administrators may change membership of the Administrators group.".into(),
        ));
    }
    if add.is_empty() {
        return Ok(());
    }
    let mine = match scope.caller.user_id() {
        Some(u) => state
            .store
            .users
            .get(&scope.id(), &u)?
            .map(|u| u.groups)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if add.iter().any(|g| !mine.contains(g)) {
        return Err(ApiError::Forbidden(
            "A key can only join groups its owner belongs to.".into(),
        ));
    }
    Ok(())
}

/// Whether the caller may change `key` without admin rights: its own key, or one its user
/// owns (in the caller's own account).
pub fn owns(scope: &AccountScope, key: &ApiKeyRecord) -> bool {
    scope.caller.account_id() == key.account_id
        && (key.id == scope.caller.apikey.id
            || (key.owner.is_some() && key.owner == scope.caller.user_id()))
}

/// 403 unless the caller is an admin or owns `key`.
pub fn require_owner(scope: &AccountScope, key: &ApiKeyRecord) -> ApiResult<()> {
    if scope.is_admin() || owns(scope, key) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only administrators may change API keys of other users.".into(),
        ))
    }
}

/// The filters of `GET /v3/api-keys` (`x-filter`).
const APIKEY_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "key",
        ops: super::list::EQ,
    },
    FilterSpec {
        field: "owner",
        ops: super::list::EQ,
    },
];

/// GET /v3/api-keys
///
/// `key__eq` takes the key as responses show it or the full key (tools look up their own
/// key that way): both name the key id. Key text is case-sensitive, so the raw value is
/// read here rather than the list parser's lowercased one.
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::parse(&req, 50, APIKEY_FILTERS)?;
    // `key__eq` names a key by its full text: it becomes a filter on the id of that key
    // (none, so nothing matches, when the text is no key of this account).
    let key_filter: Option<Option<ApiKeyId>> =
        q.filters.iter().any(|f| f.field == "key").then(|| {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
            pairs
                .iter()
                .rev()
                .find(|(name, _)| name == "key__eq")
                .and_then(|(_, value)| apikey::parse(value.trim()))
                .filter(|(account, _)| *account == scope.id())
                .map(|(_, id)| id)
        });
    q.filters.retain(|f| f.field != "key");
    if let Some(wanted) = key_filter {
        q.filters.push(Filter {
            field: "id",
            op: Op::Eq,
            values: wanted.iter().map(|id| id.hex()).collect(),
        });
    }
    let page = state.store.apikeys.list(&scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.try_map(|k| view(&state, &k, None))?))
}

/// GET /v3/api-keys/{apikey_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &key, None)?))
}

/// PUT /v3/api-keys/{apikey_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    body: Json<ApiKeyUpdate>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    require_owner(&scope, &key)?;
    update_key(&state, &scope, &key, body.0).await
}

/// DELETE /v3/api-keys/{apikey_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    require_owner(&scope, &key)?;
    state
        .store
        .apikeys
        .delete(&scope.id(), &key.id, Some(scope.admin_group().id()))?
        .durable()
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v3/api-keys/{apikey_id}/reset-secret (and its tenant twin)
///
/// The old full key stops working as soon as this answers; the new one is in the response
/// and nowhere else. The document sets no rule of its own on who may reset, so it is that
/// of update and delete: admins, and the caller for keys it owns (its own key included).
pub async fn reset_secret(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    require_owner(&scope, &key)?;
    let issued = apikey::issue(&key.account_id, &key.id);
    let updated = state
        .store
        .apikeys
        .reset_secret(&scope.id(), &key.id, &issued.digest)?
        .durable()
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(super::headers::no_store())
        .json(view(&state, &updated, Some(&issued.full))?))
}
