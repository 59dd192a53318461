//! Session tokens: `rt_` and 48 random letters and digits (~285 bits), handed out by
//! `POST /auth/login` (a person) and `POST /auth/token` (an API key's client credentials).
//! Stored only as a SHA-256 digest, like API keys.
//!
//! # Rights of a session (decided)
//!
//! A session's rights follow the rule of a key of its user (`auth` module comment): its
//! user is read on every request, so a change applies at the next one.
//!
//! - The user must exist and be `ACTIVE` (a `RESET` user's session may only change its
//!   password; any other status ends every session at once). Admin while the user is in
//!   `Administrators`.
//! - A session began under one password: when the user's `password_changed_time` is newer
//!   than the one it began with (a reset by email, a change from another session), it is
//!   over. An admin's reset (status `RESET`) ends full sessions by the status rule.
//! - It ends after the account's `idle_timeout` minutes without use (default 30) and at
//!   the latest `auth.session_max_hours` after its login, whatever the use.
//! - A client-credentials session has the rights of its key, read on every request as the
//!   key would be: it ends with the key (deleted, made inactive, or its secret reset) and
//!   after `auth.client_token_secs`.
//!
//! An ended session is deleted when it is next presented, and refused with 401.

use super::{key_caller, unauthorized, Caller};
use crate::error::ApiError;
use crate::ids::Id;
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::signin::{SessionKind, SessionRecord};
use crate::store::users::UserRecord;
use actix_web::HttpRequest;
use std::sync::Arc;

pub const PREFIX: &str = "rt_";
const SECRET_LEN: usize = 48;
/// The account's `idle_timeout` when it has none, in minutes.
pub const DEFAULT_IDLE_MINUTES: u32 = 30;

/// A new token and its digest.
pub fn issue() -> (String, Vec<u8>) {
    let token = format!("{PREFIX}{}", super::apikey::random_secret(SECRET_LEN));
    let digest = super::apikey::digest(&token);
    (token, digest)
}

fn well_formed(token: &str) -> bool {
    token.len() == PREFIX.len() + SECRET_LEN
        && token.starts_with(PREFIX)
        && token[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// The idle limit of sessions of `account`, in milliseconds.
pub fn idle_millis(account: &AccountRecord) -> i64 {
    i64::from(account.idle_timeout.unwrap_or(DEFAULT_IDLE_MINUTES).max(1)) * 60_000
}

/// When `session` ends if unused from now on (`last_used` is its latest use).
pub fn ends_at(session: &SessionRecord, account: &AccountRecord, last_used: i64) -> i64 {
    match session.kind {
        SessionKind::Client => session.expires_at,
        _ => session
            .expires_at
            .min(last_used.saturating_add(idle_millis(account))),
    }
}

/// The caller a session token makes (see the module comment); 401 when it makes none.
pub fn check(token: &str, _req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    if !well_formed(token) {
        return Err(unauthorized("The session token is malformed."));
    }
    let digest = super::apikey::digest(token);
    let sessions = &state.store.signin.sessions;
    let session = sessions
        .by_digest(&digest)?
        .filter(|s| super::apikey::constant_time_eq(&s.token_digest, &digest))
        .ok_or_else(|| unauthorized("The session token is not valid."))?;
    match caller_of(&session, state) {
        Ok(caller) => Ok(caller),
        Err(ApiError::Unauthorized(message)) => {
            // Over for good: nothing brings it back, so it goes now. Not awaited durable:
            // were the delete lost, the next request would find it over again.
            drop(sessions.delete(&session)?);
            Err(ApiError::Unauthorized(message))
        }
        Err(e) => Err(e),
    }
}

fn caller_of(session: &SessionRecord, state: &AppState) -> Result<Caller, ApiError> {
    let now = state.config.auth.clock.now_millis();
    let sessions = &state.store.signin.sessions;
    let account = state
        .store
        .accounts
        .get_shared(&session.account_id)?
        .ok_or_else(|| unauthorized("The session's account no longer exists."))?;
    if ends_at(session, &account, sessions.last_used(session)) <= now {
        return Err(unauthorized("The session has expired."));
    }
    let session = Arc::new(session.clone());
    if session.kind == SessionKind::Client {
        let key = state
            .store
            .apikeys
            .get(&account.id, &session.subject)?
            .filter(|k| session.key_digest.as_deref() == Some(k.key_digest.as_slice()))
            .ok_or_else(|| unauthorized("The token's API key no longer exists."))?;
        let mut caller = key_caller(Arc::new(key), state)?;
        caller.session = Some(session);
        return Ok(caller);
    }
    let user = state
        .store
        .users
        .get_shared(&account.id, &session.subject)?
        .ok_or_else(|| unauthorized("The session's user no longer exists."))?;
    let allowed = match session.kind {
        SessionKind::PasswordChange => {
            matches!(user.status, UserStatus::Active | UserStatus::Reset)
        }
        _ => user.status == UserStatus::Active,
    };
    if !allowed {
        return Err(unauthorized("The session's user is not active."));
    }
    if !password_current(&session, &user) {
        return Err(unauthorized(
            "The session has ended: the user's password changed.",
        ));
    }
    sessions.touch(&session, now);
    Ok(Caller {
        is_admin: user.groups.contains(&account.admin_group.id()),
        account,
        apikey: None,
        owner: Some(user),
        session: Some(session),
    })
}

/// Whether `session` began under `user`'s current password. The session that changes the
/// password is moved to the new one first (its epoch then runs ahead of the user's for a
/// moment, which is fine); every other session is older and ends.
pub fn password_current(session: &SessionRecord, user: &UserRecord) -> bool {
    session.password_epoch.unwrap_or(i64::MIN) >= user.password_changed_time.unwrap_or(i64::MIN)
}

/// Ends every session of a user and forgets its sign-in state (a deleted user).
pub async fn forget_user(state: &AppState, account: &Id, user: &Id) -> Result<(), ApiError> {
    let signin = &state.store.signin;
    drop(signin.sessions.end_others(account, user, None)?);
    drop(signin.history.forget(account, user)?);
    signin.totp.delete(account, user)?.durable().await?;
    Ok(())
}

/// 403 for a session that may only change its password or set up TOTP.
pub fn require_full(caller: &Caller) -> Result<(), ApiError> {
    match caller.session.as_deref().map(|s| s.kind) {
        Some(SessionKind::PasswordChange) => Err(ApiError::Forbidden(
            "This session may only change its password (POST /auth/change-password).".into(),
        )),
        Some(SessionKind::TotpSetup) => Err(ApiError::Forbidden(
            "This session may only set up TOTP (POST /auth/totp).".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_and_differ() {
        let (a, da) = issue();
        let (b, _) = issue();
        assert!(well_formed(&a) && well_formed(&b) && a != b);
        assert_eq!(da, super::super::apikey::digest(&a));
        assert!(!well_formed("rt_short"));
        assert!(!well_formed(&a.replacen("rt_", "RT_", 1)));
        let mut bad = a.clone();
        bad.replace_range(a.len() - 1.., "!");
        assert!(!well_formed(&bad));
    }
}
