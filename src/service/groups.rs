//! Policy groups: creating, renaming, deleting and listing them, and the group rules other
//! services share (groups named in a request must exist). Membership is in `members`.

use super::audit;
use super::filter::Filter;
use super::scope::AccountScope;
use super::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, ApiKeyId, GroupId, Id, UserId};
use crate::state::AppState;
use crate::store::groups as store_groups;
use crate::store::groups::{GroupRecord, Subjects};
use crate::store::{Order, Page, PageRequest};
use serde::Deserialize;
use serde_json::Value;

/// Groups named in a request body (`groups` of a user, an invitation) must exist in the
/// account: 400 naming `groups` otherwise.
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

/// GET /v3/policy-groups/{group_id}: the group of `account` with `id`.
pub fn get(state: &AppState, account: &Id, id: &Id) -> ApiResult<Option<GroupRecord>> {
    Ok(state.store.groups.get(account, id)?)
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

/// A page of the groups named by `ids` (a member's group list, a handful of ids held in its
/// record), cut in memory; ids are time-ordered, so sorting them is creation order.
pub fn page_of(
    state: &AppState,
    account: &Id,
    ids: &[Id],
    page: &PageRequest,
) -> ApiResult<Page<GroupRecord>> {
    let mut groups = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(g) = state.store.groups.get(account, id)? {
            groups.push(g);
        }
    }
    Ok(page_in_memory(groups, |g| g.id.id(), page))
}

/// GET /v3/policy-groups
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<GroupRecord>> {
    Ok(state.store.groups.list(account, page, filters)?)
}

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
    state: &AppState,
    scope: &AccountScope,
    req: GroupCreate,
) -> ApiResult<GroupRecord> {
    let name = check_name(req.name.as_deref())?;
    let members = match &req.members {
        None | Some(Value::Null) => Subjects::default(),
        Some(v @ Value::Object(_)) => SubjectsIn::parse(state, v, None)?.into_subjects(),
        Some(_) => {
            return Err(ApiError::field(
                "members",
                "Must be an object with 'users' and/or 'apikeys' arrays.",
            ))
        }
    };
    let group = GroupRecord::new(GroupId::new(), scope.id(), &name);
    // One transaction: the group and its members.
    Ok(state
        .store
        .transact(|tx| {
            let created = store_groups::create_in(tx, &group, &members)?;
            audit::record(
                tx,
                scope,
                "create",
                ("policy-group", &created.id),
                None,
                Some(&created),
            )?;
            Ok(created)
        })?
        .durable()
        .await?)
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
    state: &AppState,
    scope: &AccountScope,
    group: &GroupRecord,
    req: GroupUpdate,
) -> ApiResult<GroupRecord> {
    let name = check_name(req.name.as_deref())?;
    if group.id == scope.admin_group() && name != group.name {
        return Err(ApiError::Forbidden(
            "The Administrators group cannot be renamed.".into(),
        ));
    }
    let account = scope.id();
    let renamed = state.store.transact(|tx| {
        let renamed = store_groups::rename_in(tx, &account, &group.id, &name)?;
        if renamed.name != group.name {
            audit::record(
                tx,
                scope,
                "update",
                ("policy-group", &group.id),
                Some(group),
                Some(&renamed),
            )?;
        }
        Ok(renamed)
    });
    match renamed {
        Err(crate::store::StoreError::Conflict(message)) => Err(ApiError::field("name", message)),
        other => Ok(other?.durable().await?),
    }
}

/// DELETE /v3/policy-groups/{group_id}
pub async fn delete(state: &AppState, scope: &AccountScope, group: &GroupRecord) -> ApiResult<()> {
    if group.id == scope.admin_group() {
        return Err(ApiError::Forbidden(
            "The Administrators group cannot be deleted.".into(),
        ));
    }
    // Members are listed outside the transaction (an engine may not scan inside one); the
    // transaction re-checks the group's counters and starts over if members changed.
    let account = scope.id();
    loop {
        let members = state.store.groups.all_members(&account, &group.id)?;
        let deleted = state.store.transact(|tx| {
            if !store_groups::delete_in(tx, &account, &group.id, &members)? {
                return Ok(false);
            }
            audit::record(
                tx,
                scope,
                "delete",
                ("policy-group", &group.id),
                Some(group),
                None,
            )?;
            Ok(true)
        })?;
        if deleted.durable().await? {
            return Ok(());
        }
    }
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
