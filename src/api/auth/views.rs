//! What `/v3/users` shows of signing in: `login_history` and, with
//! `include=active_sessions`, the user's live sessions as the spec's `ActiveSession`.

use crate::error::{ApiError, ApiResult};
use crate::ids::AccountId;
use crate::state::AppState;
use crate::store::users::UserRecord;
use actix_web::HttpRequest;
use serde::Serialize;

/// The spec's `LoginHistory`.
#[derive(Serialize)]
pub struct LoginHistoryView {
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub date: i64,
    pub ip_address: String,
    pub success: bool,
    pub user_agent: String,
}

/// The spec's `ActiveSession`. `reference_token` names the session (its id): it is not the
/// bearer token and authenticates nothing.
#[derive(Serialize)]
pub struct ActiveSessionView {
    pub object: &'static str,
    pub account_id: AccountId,
    pub ip_address: String,
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub login_time: i64,
    pub user_agent: String,
    pub reference_token: String,
}

/// The user's last login attempts, newest first.
pub fn login_history(state: &AppState, user: &UserRecord) -> ApiResult<Vec<LoginHistoryView>> {
    let attempts = state.store.signin.history.get(&user.account_id, &user.id)?;
    Ok(attempts
        .into_iter()
        .map(|a| LoginHistoryView {
            date: a.date,
            ip_address: a.ip_address,
            success: a.success,
            user_agent: a.user_agent,
        })
        .collect())
}

/// Whether the query's `include` (comma-separated) asks for `what`.
fn includes(req: &HttpRequest, what: &str) -> bool {
    url_pairs(req.query_string())
        .filter(|(k, _)| k == "include")
        .any(|(_, v)| v.split(',').any(|part| part.trim() == what))
}

fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
}

/// The live sessions of `user` when the request asks for them (`include=active_sessions`):
/// the user itself, or an admin of its account.
pub fn active_sessions_if_asked(
    state: &AppState,
    req: &HttpRequest,
    user: &UserRecord,
    is_self: bool,
    is_admin: bool,
) -> ApiResult<Option<Vec<ActiveSessionView>>> {
    if !includes(req, "active_sessions") {
        return Ok(None);
    }
    if !(is_self || is_admin) {
        return Err(ApiError::Forbidden(
            "Only administrators may see other users' sessions.".into(),
        ));
    }
    let Some(account) = state.store.accounts.get_shared(&user.account_id)? else {
        return Ok(Some(Vec::new()));
    };
    let now = state.config.auth.clock.now_millis();
    let sessions = &state.store.signin.sessions;
    let live = sessions
        .list(&user.account_id, &user.id)?
        .into_iter()
        .filter(|s| {
            crate::auth::session::password_current(s, user)
                && crate::auth::session::ends_at(s, &account, sessions.last_used(s)) > now
        })
        .map(|s| ActiveSessionView {
            object: "user-session",
            account_id: s.account_id,
            ip_address: s.ip_address,
            login_time: s.login_time,
            user_agent: s.user_agent,
            reference_token: s.id.hex(),
        })
        .collect();
    Ok(Some(live))
}
