//! Sessions as `/v3/users` shows them, and logout.

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::signin::{LoginAttempt, SessionRecord};
use crate::store::users::UserRecord;

/// POST /auth/logout: ends `session`.
pub async fn logout(
    state: &AppState,
    session: &SessionRecord,
    user: Option<&UserRecord>,
    request: &crate::service::audit::RequestInfo,
) -> ApiResult<()> {
    let entry = user.map(|u| crate::service::audit::signin_entry(u, request, "logout", Vec::new()));
    state
        .store
        .signin
        .sessions
        .delete_with(session, &|tx| match &entry {
            Some(e) => crate::store::audit::record_in(tx, e),
            None => Ok(()),
        })?
        .durable()
        .await?;
    Ok(())
}

/// Ends the live session of `user` whose id is `reference` (as `active_sessions` names
/// them), leaving the others; anyone else's, or one that has ended, is a 400.
pub async fn logout_one(
    state: &AppState,
    user: Option<&UserRecord>,
    reference: &str,
    request: &crate::service::audit::RequestInfo,
) -> ApiResult<()> {
    let not_live = || {
        crate::error::ApiError::field(
            "reference_token",
            "None of your active sessions has this reference_token.",
        )
    };
    let user = user.ok_or_else(not_live)?;
    let chosen = live_sessions(state, user)?
        .into_iter()
        .find(|s| s.id.hex() == reference.trim())
        .ok_or_else(not_live)?;
    logout(state, &chosen, Some(user), request).await
}

/// The user's last login attempts, newest first (`login_history`).
pub fn login_history(state: &AppState, user: &UserRecord) -> ApiResult<Vec<LoginAttempt>> {
    Ok(state.store.signin.history.get(&user.account_id, &user.id)?)
}

/// The user's live sessions, oldest login first (`active_sessions`).
pub fn live_sessions(state: &AppState, user: &UserRecord) -> ApiResult<Vec<SessionRecord>> {
    let Some(account) = state.store.accounts.get_shared(&user.account_id)? else {
        return Ok(Vec::new());
    };
    let now = state.config.auth.clock.now_millis();
    let sessions = &state.store.signin.sessions;
    Ok(sessions
        .list(&user.account_id, &user.id)?
        .into_iter()
        .filter(|s| {
            crate::auth::session::password_current(s, user)
                && crate::auth::session::ends_at(s, &account, sessions.last_used(s)) > now
        })
        .collect())
}
