//! Authentication: who is calling, decided once per request by the `Caller` extractor.
//!
//! # Rights of a key (decided)
//!
//! A key's rights are never more than its owner's. Every request reads the key and, for a
//! key with an owner, the owner's record (one point read, decoded once per stored version;
//! nothing is remembered between requests, so a change applies at the next request):
//!
//! - The owner's status decides whether the key works at all. `INACTIVE` owners are locked
//!   out (the spec: "INACTIVE users are locked out and not permitted to use the system"):
//!   their keys are refused with 401 until the owner is made active again. `ACTIVE`,
//!   `RESET`, `ENROLLING` and `INVITED` owners' keys work: those statuses are about the
//!   owner's password or sign-up, not about keys an administrator issued. A user created
//!   without a password is `RESET`, and the key a tenant is created with belongs to a
//!   `RESET` (no `admin_password`) or `ENROLLING` (`action=enroll`) admin; both keys must
//!   work, or the account they are handed out for would have no usable credential.
//!   `owner_keys_work` is the rule. (A person's session is stricter: a `RESET` user's
//!   session may only change its password; see `session`.)
//! - A key owned by a user is an admin only while both the key and its owner are members of
//!   the account's `Administrators` group: a user who leaves the group loses admin power
//!   through all its keys at once.
//! - A key without an owner (the API makes one only for a caller whose own key has none) is
//!   an admin when it is in `Administrators`, as before.
//! - A key whose owner no longer exists is refused (its keys go with a deleted user).

pub mod apikey;
mod callers;
pub mod login;
pub mod password;
pub mod passwords;
pub mod session;
pub mod strength;
pub mod throttle;
pub mod totp;

use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
use crate::state::AppState;
use crate::status::{ApiKeyStatus, UserStatus};
use crate::store::accounts::AccountRecord;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::engine::read_ahead::with_read_ahead;
use crate::store::engine::Table;
use crate::store::keys::owned;
use crate::store::users::UserRecord;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};
use std::sync::Arc;

/// The authenticated caller: its account, its credential (an API key, or a session token
/// of `POST /auth/login` or `POST /auth/token`) and the user it acts for.
/// Extractors hand out copies of it (and of its account) on every request: the records are
/// shared, not cloned field by field.
#[derive(Clone)]
pub struct Caller {
    pub account: Arc<AccountRecord>,
    /// The API key used, or the key a client-credentials token was issued for; `None` for a
    /// person's session.
    pub apikey: Option<Arc<ApiKeyRecord>>,
    /// The user the caller acts for (the key's owner, or the session's user) as read by this
    /// request's authentication (`None` for a key without one). Handlers that act on the
    /// caller's own user (`/v3/users/me`) use this record rather than reading it a second
    /// time in the same request.
    pub owner: Option<Arc<UserRecord>>,
    /// The session of a `rt_` token.
    pub session: Option<Arc<crate::store::signin::SessionRecord>>,
    /// Admin of its account: the key is in `Administrators`, and so is its owner if it has
    /// one (see the module comment); for a person's session, its user is.
    pub is_admin: bool,
}

impl Caller {
    /// The user the caller acts for.
    pub fn user_id(&self) -> Option<UserId> {
        self.owner.as_ref().map(|u| u.id)
    }

    /// The API key the caller used, if it used one.
    pub fn apikey_id(&self) -> Option<crate::ids::ApiKeyId> {
        self.apikey.as_ref().map(|k| k.id)
    }

    pub fn account_id(&self) -> AccountId {
        self.account.id
    }
}

pub(crate) fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized(message.into())
}

/// Resolves the `Authorization: Bearer ...` header for a `/v3` route: an API key
/// (`ak_...`) or a session token (`rt_...`, see `session`). A session that may only change
/// its password or set up TOTP is refused here (403).
pub fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let caller = identify(req, state)?;
    session::require_full(&caller)?;
    Ok(caller)
}

/// The caller, whatever its session may do (the `/auth` routes decide that themselves).
/// Reads only; the last-use time is noted in memory (see `store::lastlogin`). Refused
/// credentials count against the client address (`ratelimit`): past the limit they are
/// answered 429 instead of 401.
pub fn identify(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(caller) = req.extensions().get::<Caller>() {
        return Ok(caller.clone());
    }
    match check_credential(req, state) {
        Err(ApiError::Unauthorized(m)) if req.headers().contains_key(header::AUTHORIZATION) => {
            let limiter = req.app_data::<web::Data<crate::ratelimit::AuthLimiter>>();
            match (limiter, req.peer_addr()) {
                (Some(limiter), Some(peer)) => match limiter.failure(peer.ip()) {
                    Some(secs) => Err(ApiError::TooManyRequests(secs)),
                    None => Err(ApiError::Unauthorized(m)),
                },
                _ => Err(ApiError::Unauthorized(m)),
            }
        }
        other => other,
    }
}

fn check_credential(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("Authorization header is missing."))?
        .to_str()
        .map_err(|_| unauthorized("Authorization header is malformed."))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim();
    let caller = if token.starts_with(session::PREFIX) {
        session::check(token, req, state)?
    } else {
        check_key(token, state)?
    };
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}

fn check_key(token: &str, state: &AppState) -> Result<Caller, ApiError> {
    let Some((account, key_id)) = apikey::parse(token).filter(|_| token.len() == apikey::FULL_LEN)
    else {
        return Err(unauthorized("The API key is malformed."));
    };
    let digest = apikey::digest(token);
    // Read before the records, so that a commit between the two leaves the caller unkept.
    let generation = state.store.engine.generation();
    if let Some(caller) = generation.and_then(|g| callers::get(g, &digest)) {
        if let Some(key) = &caller.apikey {
            note_use(key, state);
        }
        return Ok(caller);
    }
    // The key names its account and id: its digest entry, its record and its account are
    // read at once (one round trip on PostgreSQL). A forged key finds no digest entry.
    let ahead = || {
        vec![
            (Table::KeyhashApikeyid, digest.clone()),
            (Table::ApikeyidApikey, owned(&account, &key_id)),
            (Table::AccountidAccount, account.as_bytes().to_vec()),
        ]
    };
    let caller = with_read_ahead(&*state.store.engine, ahead, || {
        let key = state
            .store
            .apikeys
            .by_digest(&digest)?
            .filter(|k| apikey::constant_time_eq(&k.key_digest, &digest))
            .ok_or_else(|| unauthorized("The API key is not valid."))?;
        key_caller(key, state)
    })?;
    if let Some(generation) = generation {
        callers::keep(generation, &digest, &caller);
    }
    Ok(caller)
}

/// Notes, in memory, that `key` (and its owner) was used now (see `store::lastlogin`).
fn note_use(key: &ApiKeyRecord, state: &AppState) {
    let used = std::iter::once(key.id.id()).chain(key.owner.map(UserId::id));
    let now = crate::clock::now_millis();
    state.store.last_login.touch(&key.account_id, used, now);
}

/// The caller `key` makes (401 unless it is active): its account, owner and rights (the module
/// comment's rules). Also for a client-credentials token, which has its key's rights.
pub fn key_caller(key: Arc<ApiKeyRecord>, state: &AppState) -> Result<Caller, ApiError> {
    if key.status != ApiKeyStatus::Active {
        return Err(unauthorized("The API key is not active."));
    }
    let account = state
        .store
        .accounts
        .get_shared(&key.account_id)?
        .ok_or_else(|| unauthorized("The API key's account no longer exists."))?;
    let owner = match &key.owner {
        Some(id) => Some(
            state
                .store
                .users
                .get_shared(&account.id, id)?
                .ok_or_else(|| unauthorized("The API key's owner no longer exists."))?,
        ),
        None => None,
    };
    let is_admin = rights(&key, owner.as_deref(), &account)?;
    note_use(&key, state);
    Ok(Caller {
        is_admin,
        account,
        apikey: Some(key),
        owner,
        session: None,
    })
}

/// Whether the keys of an owner with `status` work (see the module comment). A match, so
/// that a new status cannot be added without deciding this.
pub fn owner_keys_work(status: UserStatus) -> bool {
    match status {
        UserStatus::Active | UserStatus::Reset | UserStatus::Enrolling | UserStatus::Invited => {
            true
        }
        UserStatus::Inactive => false,
    }
}

/// Whether `key` (owned by `owner`, if any) is an admin of `account`; 401 when its owner is
/// not allowed in. The rules are the module comment's.
fn rights(
    key: &ApiKeyRecord,
    owner: Option<&UserRecord>,
    account: &AccountRecord,
) -> Result<bool, ApiError> {
    let admins = &account.admin_group.id();
    match owner {
        Some(user) if !owner_keys_work(user.status) => Err(unauthorized(
            "The API key's owner is not active: its keys are refused.",
        )),
        Some(user) => Ok(key.groups.contains(admins) && user.groups.contains(admins)),
        None => Ok(key.groups.contains(admins)),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => authenticate(req, state),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApiKeyId, Id};

    #[test]
    fn a_key_has_no_more_rights_than_its_owner() {
        let account = AccountRecord::new(None);
        let admins = vec![account.admin_group.id()];
        let key = |groups: &Vec<Id>, owner: Option<UserId>| ApiKeyRecord {
            id: ApiKeyId::new(),
            account_id: account.id,
            name: "k".into(),
            owner,
            status: ApiKeyStatus::Active,
            key_digest: Vec::new(),
            groups: groups.clone(),
            created_at: 0,
            updated_at: 0,
            etag: 1,
        };
        let user = |status: UserStatus, groups: &Vec<Id>| UserRecord {
            groups: groups.clone(),
            ..UserRecord::new(account.id, "u@example.com".into(), status)
        };
        let none = Vec::new();
        let admin = user(UserStatus::Active, &admins);
        let admin_key = key(&admins, Some(admin.id));
        assert!(rights(&admin_key, Some(&admin), &account).unwrap());
        assert!(!rights(&key(&none, Some(admin.id)), Some(&admin), &account).unwrap());
        assert!(!rights(&admin_key, Some(&user(UserStatus::Active, &none)), &account).unwrap());
        for status in [
            UserStatus::Reset,
            UserStatus::Enrolling,
            UserStatus::Invited,
        ] {
            assert!(rights(&admin_key, Some(&user(status, &admins)), &account).unwrap());
        }
        let refused = rights(
            &admin_key,
            Some(&user(UserStatus::Inactive, &admins)),
            &account,
        );
        assert!(matches!(refused, Err(ApiError::Unauthorized(_))));
        // Without an owner: the key's own membership, as before.
        assert!(rights(&key(&admins, None), None, &account).unwrap());
        assert!(!rights(&key(&none, None), None, &account).unwrap());
    }
}
