//! API keys: `/v3/api-keys/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/api-keys/...`.

use super::body::Json;
use super::scope::AccountScope;
use super::validate::Checks;
use crate::auth::apikey;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::state::AppState;
use crate::store::apikeys::ApiKeyRecord;
use actix_web::{web, HttpResponse};
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
    pub status: String,
    pub groups: Vec<String>,
    pub created_at: String,
    pub creation_time: i64,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login_time: Option<i64>,
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
        status: k.status.clone(),
        groups: k.groups.iter().map(Id::hex).collect(),
        created_at: rfc3339(k.created_at),
        creation_time: k.created_at,
        updated_at: rfc3339(k.updated_at),
        last_login_time: state.store.last_login.get(&k.account_id, &k.id)?,
        etag: k.etag.to_string(),
    })
}

/// `ApiKeyUpdateReq`, also accepting the whole `ApiKeyInfoResp` that clients echo back.
#[derive(Deserialize, Default, Clone)]
pub struct ApiKeyUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

impl ApiKeyUpdate {
    pub fn validate(&self) -> ApiResult<()> {
        let mut c = Checks::new();
        if let Some(name) = &self.name {
            c.not_blank("name", name);
        }
        c.max_len("name", self.name.as_deref(), 100);
        c.one_of("status", self.status.as_deref(), &["ACTIVE", "INACTIVE"]);
        if let Some(owner) = &self.owner {
            c.check(Id::parse(owner).is_some(), "owner", "Must be a user id.");
        }
        c.finish()
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
    update.validate()?;
    let owner = update.owner.as_deref().and_then(Id::parse);
    let wanted_groups = update
        .groups
        .as_ref()
        .map(|g| super::validate::ids("groups", g))
        .transpose()?;
    if !scope.is_admin() {
        let changes_owner = owner.is_some_and(|o| Some(o) != key.owner);
        let changes_status = update.status.as_ref().is_some_and(|s| *s != key.status);
        let changes_groups = wanted_groups
            .as_ref()
            .is_some_and(|g| !super::users::same_set(g, &key.groups));
        if changes_owner || changes_status || changes_groups {
            return Err(ApiError::Forbidden(
                "Only administrators may change a key's owner, status or groups.".into(),
            ));
        }
    }
    let account = scope.id();
    let mut updated = state
        .store
        .apikeys
        .update(&account, &key.id, &|k| {
            if let Some(name) = &update.name {
                k.name = name.clone();
            }
            if let Some(status) = &update.status {
                k.status = status.clone();
            }
            if owner.is_some() {
                k.owner = owner;
            }
            Ok(())
        })?
        .durable()
        .await?;
    if let Some(wanted) = wanted_groups {
        if !super::users::same_set(&wanted, &updated.groups) {
            let add: Vec<Id> = wanted
                .iter()
                .filter(|g| !updated.groups.contains(g))
                .copied()
                .collect();
            let remove: Vec<Id> = updated
                .groups
                .iter()
                .filter(|g| !wanted.contains(g))
                .copied()
                .collect();
            updated = state
                .store
                .apikeys
                .change_groups(&account, &key.id, &add, &remove, Some(scope.admin_group()))?
                .durable()
                .await?;
        }
    }
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
/// The owner defaults to the caller's user. Non-admins may only create keys they own, in
/// groups they belong to themselves, and never in `Administrators`.
pub async fn create(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<ApiKeyCreate>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let mut c = Checks::new();
    c.not_blank("name", &req.name);
    c.max_len("name", Some(&req.name), 100);
    c.one_of("status", req.status.as_deref(), &["ACTIVE", "INACTIVE"]);
    c.finish()?;
    let account = scope.id();
    let owner = match req.owner.as_deref() {
        Some(raw) => {
            Some(Id::parse(raw).ok_or_else(|| ApiError::field("owner", "Must be a user id."))?)
        }
        // On tenant routes the caller's user lives in the parent account: the new key then
        // belongs to the tenant's admin user.
        None if scope.tenant => scope.account.admin_user,
        None => scope.caller.user_id(),
    };
    let groups = super::validate::ids("groups", req.groups.as_deref().unwrap_or_default())?;
    if !scope.is_admin() {
        let own_user = scope.caller.user_id();
        if owner != own_user || req.status.as_deref().is_some_and(|s| s != "ACTIVE") {
            return Err(ApiError::Forbidden(
                "Only administrators may create keys for other users or inactive keys.".into(),
            ));
        }
        let mine = match own_user {
            Some(u) => state
                .store
                .users
                .get(&account, &u)?
                .map(|u| u.groups)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        if groups
            .iter()
            .any(|g| *g == scope.admin_group() || !mine.contains(g))
        {
            return Err(ApiError::Forbidden(
                "A key can only join groups its creator belongs to (never Administrators).".into(),
            ));
        }
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
    let id = Id::new();
    let issued = apikey::issue(&account, &id);
    let record = ApiKeyRecord {
        id,
        account_id: account,
        name: req.name,
        owner,
        status: req.status.unwrap_or_else(|| "ACTIVE".into()),
        key_digest: issued.digest,
        groups,
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    let created = state.store.apikeys.create(record)?.durable().await?;
    Ok(HttpResponse::Created().json(view(&state, &created, Some(&issued.full))?))
}
