//! Group membership, from either side: a group's members (`/policy-groups/{id}`,
//! `/users`, `/api-keys`), a user's groups (`/users/{id}/groups`) and a key's groups
//! (`/api-keys/{id}/groups`, `/api-keys/me/groups`). Counts live in the group record and
//! change in the same transaction as the members.
//!
//! The rules every route shares: `Administrators` keeps a member, and a caller cannot take
//! itself out of it.

use super::apikeys::{check_group_rights, require_owner};
use super::audit;
use super::filter::{self, Filter};
use super::groups::{page_in_memory, require_groups, SubjectsIn};
use super::scope::AccountScope;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ApiKeyId, Id, UserId};
use crate::state::AppState;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::audit::FieldChange;
use crate::store::groups::{self as store_groups, Subjects};
use crate::store::groups::{GroupRecord, Keep, MemberKind, KIND_APIKEY, KIND_USER};
use crate::store::memberships::change_groups_in;
use crate::store::users::UserRecord;
use crate::store::{Page, PageRequest};
use serde_json::Value;

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
        || scope
            .caller
            .apikey_id()
            .is_some_and(|k| apikeys.contains(&k))
    {
        return Err(ApiError::field(
            field,
            "You cannot remove yourself from the Administrators group.",
        ));
    }
    Ok(())
}

/// POST /v3/policy-groups/{group_id}
pub async fn add_to_group(
    state: &AppState,
    scope: &AccountScope,
    group: &GroupRecord,
    body: &Value,
) -> ApiResult<()> {
    let subjects = SubjectsIn::parse(state, body, None)?;
    if subjects.users.is_empty() && subjects.apikeys.is_empty() {
        return Err(ApiError::field(
            "users",
            "Name at least one user or API key to add.",
        ));
    }
    let (account, subjects) = (scope.id(), subjects.into_subjects());
    state
        .store
        .transact(|tx| {
            store_groups::change_members_in(
                tx,
                &account,
                &group.id,
                &subjects,
                true,
                Keep::Anything,
            )?;
            record_members(tx, scope, group, "add_members", &subjects)
        })?
        .durable()
        .await?;
    Ok(())
}

/// DELETE /v3/policy-groups/{group_id}/users (`kind` `KIND_USER`) and
/// DELETE /v3/policy-groups/{group_id}/api-keys (`KIND_APIKEY`): removes the subjects of
/// that kind named in `body`.
pub async fn remove_from_group(
    state: &AppState,
    scope: &AccountScope,
    group: &GroupRecord,
    body: &Value,
    kind: MemberKind,
) -> ApiResult<()> {
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
    let (account, subjects) = (scope.id(), subjects.into_subjects());
    state
        .store
        .transact(|tx| {
            store_groups::change_members_in(tx, &account, &group.id, &subjects, false, keep)?;
            record_members(tx, scope, group, "remove_members", &subjects)
        })?
        .durable()
        .await?;
    Ok(())
}

/// The audit entry of a membership change of `group`: the users and keys added or removed.
fn record_members(
    tx: &dyn crate::store::engine::Tx,
    scope: &AccountScope,
    group: &GroupRecord,
    action: &str,
    subjects: &Subjects,
) -> crate::store::StoreResult<()> {
    let list = |ids: &[Id]| {
        let hex: Vec<String> = ids.iter().map(Id::hex).collect();
        serde_json::to_string(&hex).ok()
    };
    let mut fields = Vec::new();
    for (field, ids) in [("users", &subjects.users), ("apikeys", &subjects.apikeys)] {
        if !ids.is_empty() {
            fields.push(FieldChange {
                field: field.into(),
                old_value: None,
                new_value: list(ids),
            });
        }
    }
    let entry = audit::entry(scope, action, "policy-group", &group.id, fields);
    crate::store::audit::record_in(tx, &entry)
}

/// GET /v3/policy-groups/{group_id}/users
pub fn users(
    state: &AppState,
    scope: &AccountScope,
    group: &GroupRecord,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<UserRecord>> {
    let account = scope.id();
    let filtered = !filters.is_empty();
    // Unfiltered pages are range scans of the membership index; a status filter needs the
    // member records, so it reads them all and pages in memory.
    let request = if filtered {
        PageRequest::all()
    } else {
        page.clone()
    };
    let ids = state
        .store
        .groups
        .members(&account, &group.id, KIND_USER, &request)?;
    let mut users = Vec::with_capacity(ids.items.len());
    for id in &ids.items {
        if let Some(u) = state.store.users.get(&account, id)? {
            if filter::accepts(filters, |f| match f {
                "status" => vec![u.status.to_string()],
                _ => Vec::new(),
            }) {
                users.push(u);
            }
        }
    }
    Ok(if filtered {
        page_in_memory(users, |u| u.id.id(), page)
    } else {
        Page {
            items: users,
            has_more: ids.has_more,
            total: ids.total,
        }
    })
}

/// GET /v3/policy-groups/{group_id}/api-keys
pub fn apikeys(
    state: &AppState,
    scope: &AccountScope,
    group: &GroupRecord,
    page: &PageRequest,
) -> ApiResult<Page<ApiKeyRecord>> {
    let account = scope.id();
    let ids = state
        .store
        .groups
        .members(&account, &group.id, KIND_APIKEY, page)?;
    let mut keys = Vec::with_capacity(ids.items.len());
    for id in &ids.items {
        if let Some(k) = state.store.apikeys.get(&account, id)? {
            keys.push(k);
        }
    }
    Ok(Page {
        items: keys,
        has_more: ids.has_more,
        total: ids.total,
    })
}

/// The body of a user's membership routes: group ids, at least one, at most the configured
/// limit.
fn user_group_ids(state: &AppState, raw: &[String]) -> ApiResult<Vec<Id>> {
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
pub async fn add_user_to_groups(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    groups: &[String],
) -> ApiResult<()> {
    let ids = user_group_ids(state, groups)?;
    let account = scope.id();
    require_groups(state, &account, &ids)?;
    if let Some(g) = ids.iter().find(|g| user.groups.contains(g)) {
        return Err(ApiError::Conflict(format!(
            "The user is a member of group {g} already."
        )));
    }
    change_user_groups(state, scope, user, &ids, &[]).await
}

/// Adds `user` to `add` and removes it from `remove`, with its audit entry, in one
/// transaction (the last member of `Administrators` stays).
async fn change_user_groups(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    add: &[Id],
    remove: &[Id],
) -> ApiResult<()> {
    let account = scope.id();
    let admins = Some(scope.admin_group().id());
    state
        .store
        .transact(|tx| {
            let after =
                change_groups_in::<UserRecord>(tx, &account, &user.id, add, remove, admins)?;
            audit::record(
                tx,
                scope,
                "update",
                ("user", &user.id),
                Some(user),
                Some(&after),
            )
        })?
        .durable()
        .await?;
    Ok(())
}

/// DELETE /v3/users/{user_id}/groups
///
/// Unknown groups are 404. Removing the user from a group it is not in, or from no group
/// (`[]`), changes nothing and is not an error, so a retried request succeeds. The last
/// member of `Administrators` stays (400).
pub async fn remove_user_from_groups(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    groups: &[String],
) -> ApiResult<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let ids = user_group_ids(state, groups)?;
    let account = scope.id();
    require_groups(state, &account, &ids)?;
    let remove: Vec<Id> = ids
        .into_iter()
        .filter(|g| user.groups.contains(g))
        .collect();
    check_not_last_admin(state, scope, &remove)?;
    if remove.contains(&scope.admin_group()) {
        refuse_self_removal(scope, &[user.id], &[], "groups")?;
    }
    if !remove.is_empty() {
        change_user_groups(state, scope, user, &[], &remove).await?;
    }
    Ok(())
}

/// The group ids of a key's membership request body (an array of ids), deduplicated.
fn key_group_ids(state: &AppState, body: &[String]) -> ApiResult<Vec<Id>> {
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

/// Which key a key-membership route names: the caller's own (`/me/groups`) or one by id.
#[derive(PartialEq, Clone, Copy)]
pub enum KeyRoute {
    Me,
    ById,
}

/// POST and DELETE /v3/api-keys/{apikey_id}/groups and /v3/api-keys/me/groups (`add`
/// tells which).
///
/// Admins may move any key in or out of any group. Other callers may change only keys they
/// own, only into groups their user belongs to, and never touch `Administrators`.
///
/// An unknown group is 404 on the by-id routes (the document's "A group or API key with
/// that ID does not exist") and 400 on `/me/groups`, whose spec lists no 404. Removing no
/// groups (`[]`) is a no-op, so a client with nothing to remove need not special-case it.
pub async fn change_key_groups(
    state: &AppState,
    scope: &AccountScope,
    key: &ApiKeyRecord,
    groups: &[String],
    add: bool,
    route: KeyRoute,
) -> ApiResult<()> {
    require_owner(scope, key)?;
    if !add && groups.is_empty() {
        return Ok(());
    }
    let ids = key_group_ids(state, groups)?;
    if route == KeyRoute::ById {
        require_groups(state, &scope.id(), &ids)?;
    }
    if add {
        check_group_rights(state, scope, &ids, &[])?;
    } else {
        check_group_rights(state, scope, &[], &ids)?;
    }
    let (add_ids, remove_ids): (&[Id], &[Id]) = if add { (&ids, &[]) } else { (&[], &ids) };
    let (account, admins) = (scope.id(), Some(scope.admin_group().id()));
    state
        .store
        .transact(|tx| {
            let after = change_groups_in::<ApiKeyRecord>(
                tx, &account, &key.id, add_ids, remove_ids, admins,
            )?;
            audit::record(
                tx,
                scope,
                "update",
                ("api-key", &key.id),
                Some(key),
                Some(&after),
            )
        })?
        .durable()
        .await?;
    Ok(())
}
