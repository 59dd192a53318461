//! API keys: creating, updating, deleting, resetting and listing them, and who may change
//! which key. Their group membership is in `members`.

use super::audit;
use super::filter::{Filter, Op};
use super::scope::AccountScope;
use super::validate::Checks;
use crate::auth::apikey;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ApiKeyId, Id, UserId};
use crate::state::AppState;
use crate::status::ApiKeyStatus;
use crate::store::apikeys::{self as store_apikeys, ApiKeyRecord};
use crate::store::audit::record_in;
use crate::store::engine::read_ahead::with_read_ahead;
use crate::store::engine::Table;
use crate::store::keys::owned;
use crate::store::memberships::change_groups_in;
use crate::store::{Page, PageRequest};
use serde::Deserialize;

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

/// The key the caller calls with.
pub fn me(state: &AppState, scope: &AccountScope) -> ApiResult<ApiKeyRecord> {
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

/// GET /v3/api-keys/{apikey_id}: the key of `account` with `id`.
pub fn get(state: &AppState, account: &Id, id: &Id) -> ApiResult<Option<ApiKeyRecord>> {
    Ok(state.store.apikeys.get(account, id)?)
}

/// PUT /v3/api-keys/me
pub async fn update_me(
    state: &AppState,
    scope: &AccountScope,
    update: ApiKeyUpdate,
) -> ApiResult<ApiKeyRecord> {
    let key = me(state, scope)?;
    update_key(state, scope, &key, update).await
}

/// PUT /v3/api-keys/{apikey_id}
pub async fn update(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    update: ApiKeyUpdate,
) -> ApiResult<ApiKeyRecord> {
    require_owner(scope, key)?;
    update_key(state, scope, key, update).await
}

/// Applies an update to `key` after checking fields and rights; shared by the `me` and
/// by-id routes. Only admins change `owner`, `status` and group membership; echoing the
/// current values is fine for anyone.
async fn update_key(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    update: ApiKeyUpdate,
) -> ApiResult<ApiKeyRecord> {
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
    // An unknown owner is named in a 400 on `owner` here; the transaction checks it again.
    if let Some(o) = owner.filter(|o| Some(*o) != key.owner) {
        if state.store.users.get(&account, &o)?.is_none() {
            return Err(ApiError::field(
                "owner",
                format!("User {o} does not exist."),
            ));
        }
    }
    // One transaction: the groups and the fields land together or not at all.
    let admins = Some(scope.admin_group().id());
    let changes_groups = !add.is_empty() || !remove.is_empty();
    Ok(state
        .store
        .transact(|tx| {
            if changes_groups {
                change_groups_in::<ApiKeyRecord>(tx, &account, &key.id, &add, &remove, admins)?;
            }
            let updated = store_apikeys::update_in(tx, &account, &key.id, &|k| {
                k.name = update.name.clone();
                if let Some(status) = status {
                    k.status = status;
                }
                if owner.is_some() {
                    k.owner = owner;
                }
                Ok(())
            })?;
            let fields = audit::diff(Some(key), Some(&updated));
            record_in(
                tx,
                &audit::entry(scope, "update", "api-key", &key.id, fields),
            )?;
            Ok(updated)
        })?
        .durable()
        .await?)
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

/// POST /v3/api-keys: the new key and its full text, shown once.
///
/// The owner defaults to the caller's user; on the tenant route there is no default (the
/// document: "There is no default value for the owner ID"). Non-admins may only create keys
/// they own, in groups they belong to themselves, and never in `Administrators`.
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    req: ApiKeyCreate,
) -> ApiResult<(ApiKeyRecord, String)> {
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
    let groups = group_list(state, req.groups.as_deref().unwrap_or_default())?;
    if !scope.is_admin() {
        let own_user = scope.caller.user_id();
        if owner != own_user || status != ApiKeyStatus::Active {
            return Err(ApiError::Forbidden(
                "Only administrators may create keys for other users or inactive keys.".into(),
            ));
        }
        check_group_rights(state, scope, &groups, &[])?;
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
    let created = state
        .store
        .transact(|tx| {
            let created = store_apikeys::create_in(tx, &record)?;
            audit::record(
                tx,
                scope,
                "create",
                ("api-key", &created.id),
                None,
                Some(&created),
            )?;
            Ok(created)
        })?
        .durable()
        .await?;
    Ok((created, issued.full))
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
        && (Some(key.id) == scope.caller.apikey_id()
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

/// GET /v3/api-keys
///
/// `key` is the raw value of `key__eq` when the request filters on it: the key as
/// responses show it or the full key (tools look up their own key that way); both name
/// the key id, and a key of another account matches nothing.
pub fn list(
    state: &AppState,
    scope: &AccountScope,
    page: &PageRequest,
    filters: &[Filter],
    key: Option<Option<&str>>,
) -> ApiResult<Page<ApiKeyRecord>> {
    let key_filter: Option<Option<ApiKeyId>> = key.map(|raw| {
        raw.and_then(|value| apikey::parse(value.trim()))
            .filter(|(account, _)| *account == scope.id())
            .map(|(_, id)| id)
    });
    // `key__eq` names a key by its full text: it becomes a filter on the id of that key
    // (none, so nothing matches, when the text is no key of this account).
    let mut filters = filters.to_vec();
    if let Some(wanted) = key_filter {
        filters.push(Filter {
            field: "id",
            op: Op::Eq,
            values: wanted.iter().map(|id| id.hex()).collect(),
        });
    }
    Ok(state.store.apikeys.list(&scope.id(), page, &filters)?)
}

/// DELETE /v3/api-keys/{apikey_id}
pub async fn delete(state: &AppState, scope: &AccountScope, key: &ApiKeyRecord) -> ApiResult<()> {
    require_owner(scope, key)?;
    let (account, admins) = (scope.id(), Some(scope.admin_group().id()));
    state
        .store
        .transact(|tx| {
            store_apikeys::delete_in(tx, &account, &key.id, admins)?;
            audit::record(tx, scope, "delete", ("api-key", &key.id), Some(key), None)
        })?
        .durable()
        .await?;
    state.store.last_login.forget(&account, &[*key.id])?;
    Ok(())
}

/// POST /v3/api-keys/{apikey_id}/reset-secret: the key and its new full text.
///
/// The old full key stops working as soon as this answers; the new one is in the response
/// and nowhere else. The document sets no rule of its own on who may reset, so it is that
/// of update and delete: admins, and the caller for keys it owns (its own key included).
pub async fn reset_secret(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
) -> ApiResult<(ApiKeyRecord, String)> {
    require_owner(scope, key)?;
    let issued = apikey::issue(&key.account_id, &key.id);
    let account = scope.id();
    let updated = state
        .store
        .transact(|tx| {
            let updated = store_apikeys::reset_secret_in(tx, &account, &key.id, &issued.digest)?;
            audit::record(
                tx,
                scope,
                "update",
                ("api-key", &key.id),
                Some(key),
                Some(&updated),
            )?;
            Ok(updated)
        })?
        .durable()
        .await?;
    Ok((updated, issued.full))
}

/// Runs `work` (the views of `keys`) with each key's last login fetched at once: one round
/// trip on PostgreSQL instead of one per key (see `store::engine::read_ahead`).
pub fn with_view_reads<R>(state: &AppState, keys: &[ApiKeyRecord], work: impl FnOnce() -> R) -> R {
    let read = || {
        (keys.iter())
            .map(|k| (Table::SubjectidLastlogin, owned(&k.account_id, &k.id)))
            .collect()
    };
    with_read_ahead(&*state.store.engine, read, work)
}
