//! The audit trail: the entry each change writes in its own transaction
//! (`store::audit::record_in`), who made it and from where (the request's `RequestInfo`,
//! set by the HTTP layer on the `AccountScope`), and the changed fields with their values
//! before and after. Secrets never appear: a changed secret reads `"(changed)"`.

use super::filter::Filter;
use super::scope::AccountScope;
pub use super::scope::RequestInfo;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::ids::{AccountId, Id};
use crate::state::AppState;
use crate::store::audit::{AuditRecord, FieldChange};
use crate::store::{Page, PageRequest};
use serde::Serialize;
use serde_json::Value;

/// What a change's audit entry reads in place of a secret's value.
pub const CHANGED: &str = "(changed)";

/// Fields that are bookkeeping, not content: left out of every entry.
const SKIPPED: &[&str] = &["id", "account_id", "etag", "created_at", "updated_at"];

/// Fields whose values are secrets (recorded as `"(changed)"` when they change).
const SECRETS: &[&str] = &["password_hash", "key_digest", "token_digest", "private_key"];

/// The fields that differ between `old` and `new` (either may be absent: a create or a
/// delete), with their values as JSON text.
pub fn diff<T: Serialize>(old: Option<&T>, new: Option<&T>) -> Vec<FieldChange> {
    let as_map = |r: Option<&T>| match r.map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        let o = old.get(name).filter(|v| !v.is_null());
        let n = new.get(name).filter(|v| !v.is_null());
        if o == n {
            continue;
        }
        let text = |v: Option<&Value>| match v {
            None => None,
            Some(_) if SECRETS.contains(&name.as_str()) => Some(format!("\"{CHANGED}\"")),
            Some(v) => Some(v.to_string()),
        };
        let field = match name.as_str() {
            "password_hash" => "password",
            "key_digest" => "secret",
            other => other,
        };
        out.push(FieldChange {
            field: field.to_string(),
            old_value: text(o),
            new_value: text(n),
        });
    }
    out
}

/// The entry of a change made by `scope`'s caller to `target_type` `target_id`, recorded in
/// the target account's log (a tenant's own, on the tenant routes).
pub fn entry(
    scope: &AccountScope,
    action: &str,
    target_type: &str,
    target_id: &Id,
    fields: Vec<FieldChange>,
) -> AuditRecord {
    let target = (target_type, target_id);
    entry_by(
        &scope.caller,
        &scope.request,
        scope.id(),
        action,
        target,
        fields,
    )
}

/// A new entry's id: of the request's instant, so that an entry's `created_at` is its id's
/// time and a time range of the log is a range of its keys.
fn entry_id(request: &RequestInfo) -> Id {
    Id::at(request.at.unwrap_or_else(crate::clock::now_millis))
}

/// The entry of a change `caller` made from `request`, recorded in `account`'s log.
pub fn entry_by(
    caller: &Caller,
    request: &RequestInfo,
    account: AccountId,
    action: &str,
    target: (&str, &Id),
    fields: Vec<FieldChange>,
) -> AuditRecord {
    // An API key (or a client-credentials token, which carries its key) acts as that key;
    // a person's session acts as the user.
    let (actor_type, actor_id, actor_name) = match (&caller.apikey, &caller.owner) {
        (Some(key), _) => ("api-key", Some(key.id.hex()), Some(key.name.clone())),
        (None, Some(user)) => (
            "user",
            Some(user.id.hex()),
            Some(user.full_name.clone().unwrap_or_else(|| user.email.clone())),
        ),
        (None, None) => ("system", None, None),
    };
    let id = entry_id(request);
    AuditRecord {
        id,
        account_id: account,
        created_at: id.millis(),
        actor_type: actor_type.into(),
        actor_id,
        actor_name,
        ip_address: request.ip_address.map(|ip| ip.to_string()),
        user_agent: request.user_agent.clone(),
        request_id: request.request_id.map(|id| id.as_str().to_owned()),
        action: action.into(),
        target_type: target.0.into(),
        target_id: target.1.hex(),
        fields,
    }
}

/// Records, inside `tx`, the change `action` of `target_type` `target_id` by `scope`'s
/// caller, from `old` to `new` (absent: a create or a delete).
pub fn record<T: Serialize>(
    tx: &dyn crate::store::engine::Tx,
    scope: &AccountScope,
    action: &str,
    target: (&str, &Id),
    old: Option<&T>,
    new: Option<&T>,
) -> crate::store::StoreResult<()> {
    let fields = diff(old, new);
    crate::store::audit::record_in(tx, &entry(scope, action, target.0, target.1, fields))
}

/// Records, inside `tx`, a change by `scope`'s caller to something named by text rather
/// than an id (a theme's branding colors or images), with its changed `fields`.
pub fn record_named(
    tx: &dyn crate::store::engine::Tx,
    scope: &AccountScope,
    action: &str,
    target: (&str, &str),
    fields: Vec<FieldChange>,
) -> crate::store::StoreResult<()> {
    let mut e = entry(scope, action, target.0, &scope.id(), fields);
    e.target_id = target.1.to_string();
    crate::store::audit::record_in(tx, &e)
}

/// One changed value (`None`: absent), as JSON text.
pub fn change<T: Serialize>(field: &str, old: Option<&T>, new: Option<&T>) -> FieldChange {
    let text = |v: Option<&T>| v.and_then(|v| serde_json::to_string(v).ok());
    FieldChange {
        field: field.to_string(),
        old_value: text(old),
        new_value: text(new),
    }
}

/// The entry of a sign-in event of `user`, who is also its actor (a login, a password
/// change, ...), made from `request` and recorded in the user's account's log.
pub fn signin_entry(
    user: &crate::store::users::UserRecord,
    request: &RequestInfo,
    action: &str,
    fields: Vec<FieldChange>,
) -> AuditRecord {
    let id = entry_id(request);
    AuditRecord {
        id,
        account_id: user.account_id,
        created_at: id.millis(),
        actor_type: "user".into(),
        actor_id: Some(user.id.hex()),
        actor_name: Some(user.full_name.clone().unwrap_or_else(|| user.email.clone())),
        ip_address: request.ip_address.map(|ip| ip.to_string()),
        user_agent: request.user_agent.clone(),
        request_id: request.request_id.map(|id| id.as_str().to_owned()),
        action: action.into(),
        target_type: "user".into(),
        target_id: user.id.hex(),
        fields,
    }
}

/// An entry made by the server itself (bootstrap, restore).
pub fn system_entry(
    account: AccountId,
    action: &str,
    target_type: &str,
    target_id: &Id,
) -> AuditRecord {
    let id = entry_id(&RequestInfo::default());
    AuditRecord {
        id,
        account_id: account,
        created_at: id.millis(),
        actor_type: "system".into(),
        actor_id: None,
        actor_name: Some("iamd".into()),
        ip_address: None,
        user_agent: None,
        request_id: None,
        action: action.into(),
        target_type: target_type.into(),
        target_id: target_id.hex(),
        fields: Vec::new(),
    }
}

/// GET /v3/audit-logs (and the tenant route): the entries of `account`.
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
    filters: &[Filter],
    created: (Option<i64>, Option<i64>),
) -> ApiResult<Page<AuditRecord>> {
    Ok(crate::store::audit::list(
        &*state.store.engine,
        account,
        page,
        filters,
        created,
    )?)
}
