//! Signing a person in (`POST /auth/login`): the rules, apart from HTTP.
//!
//! - Wrong password and unknown user are one answer (same 401 body) in about the same time:
//!   an unknown user's password is checked against a dummy hash of today's cost, and a
//!   user whose hash is cheaper (a generated password: one iteration) gets the dummy check
//!   on top, so every refusal costs one hash of today's cost. Hashing runs on actix's
//!   bounded blocking pool, so a burst of logins cannot starve the HTTP workers.
//! - Failures count against the username and the client address (`throttle`).
//! - Every attempt on a known user is kept in its login history; a success sets its
//!   `last_login_time`.

use super::password;
use super::session;
use super::throttle::LoginThrottle;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::Id;
use crate::service::audit::{self, RequestInfo};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::audit::FieldChange;
use crate::store::signin::{record_attempt_in, LoginAttempt, SessionKind, SessionRecord};
use crate::store::users::UserRecord;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// The answer to every wrong username, password or account.
pub const WRONG: &str = "The username, password or account is wrong.";

pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub account: Option<String>,
    pub otp: Option<String>,
}

/// Where a request came from, as login history and sessions show it.
#[derive(Clone)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

impl ClientInfo {
    pub fn ip_text(&self) -> String {
        self.ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

pub struct LoggedIn {
    pub token: String,
    pub session: SessionRecord,
    pub expires_in: i64,
}

/// The hash unknown users' passwords are checked against (made once, at today's cost).
fn dummy_hash() -> &'static [u8] {
    static DUMMY: OnceLock<Vec<u8>> = OnceLock::new();
    DUMMY.get_or_init(|| password::hash("not a password anyone has", password::CHOSEN_ITERATIONS))
}

/// A check against the dummy hash, on the blocking pool.
pub async fn dummy_check(password_text: String) -> ApiResult<()> {
    password::blocking(move || password::verify(&password_text, dummy_hash())).await?;
    Ok(())
}

/// Whether `password_text` is `user`'s password, costing at least one hash of today's cost.
pub async fn check_password(
    state: &AppState,
    user: &UserRecord,
    password_text: String,
) -> ApiResult<bool> {
    let cheap = user
        .password_hash
        .as_deref()
        .and_then(password::iterations)
        .is_none_or(|n| n < password::CHOSEN_ITERATIONS);
    let right = password::check_user(
        &state.store,
        &user.account_id,
        &user.id,
        password_text.clone(),
    )
    .await?;
    if cheap {
        dummy_check(password_text).await?;
    }
    Ok(right)
}

/// The account the client named (an id or an alias), if it exists.
fn named_account(state: &AppState, name: &str) -> ApiResult<Option<Id>> {
    if let Some(id) = Id::parse(name) {
        if state.store.accounts.get_shared(&id)?.is_some() {
            return Ok(Some(id));
        }
    }
    Ok(state.store.signin.directory.account_by_alias(name)?)
}

/// The one user `username` names: in the named account, or, with none named, in the only
/// account that has it.
pub fn find_user(
    state: &AppState,
    account: Option<&str>,
    username: &str,
) -> ApiResult<Option<(Arc<AccountRecord>, UserRecord)>> {
    let directory = &state.store.signin.directory;
    let found = match account {
        Some(name) => match named_account(state, name)? {
            Some(a) => directory.user_by_name(&a, username)?.map(|u| (a, u)),
            None => None,
        },
        None => {
            // Every account's index is asked (one point read each): an email may be in
            // several accounts, and then the client must name one.
            let mut found = None;
            for account in directory.account_ids() {
                let account = account?;
                if let Some(user) = directory.user_by_name(&account, username)? {
                    if found.is_some() {
                        return Ok(None);
                    }
                    found = Some((account, user));
                }
            }
            found
        }
    };
    let Some((account, user)) = found else {
        return Ok(None);
    };
    let Some(account) = state.store.accounts.get_shared(&account)? else {
        return Ok(None);
    };
    let user = state.store.users.get(&account.id, &user)?;
    Ok(user.map(|u| (account, u)))
}

fn otp_error(message: &str) -> ApiError {
    ApiError::UnauthorizedFields {
        message: "A one-time code is needed.".into(),
        fields: vec![FieldError::new("otp", message)],
    }
}

/// Signs a person in; see the module comment.
pub async fn login(
    state: &AppState,
    throttle: &LoginThrottle,
    request: LoginRequest,
    client: &ClientInfo,
    info: &RequestInfo,
) -> ApiResult<LoggedIn> {
    let named = request.account.as_deref();
    if let Some(secs) = throttle.locked(named, &request.username, client.ip) {
        return Err(ApiError::TooManyRequests(secs));
    }
    let now = || state.config.auth.clock.now_millis();
    let found = find_user(state, named, &request.username)?;
    let Some((account, user)) = found else {
        dummy_check(request.password).await?;
        throttle.failure(named, &request.username, client.ip);
        return Err(ApiError::Unauthorized(WRONG.into()));
    };
    let attempt = |success: bool, date: i64| LoginAttempt {
        date,
        ip_address: client.ip_text(),
        success,
        user_agent: client.user_agent.clone(),
    };
    // The attempt and its audit entry (why it failed, never the password) in one write,
    // with the session a successful one starts (its login time is the attempt's date).
    let record_attempt = |session: Option<&SessionRecord>, fields: Vec<FieldChange>| {
        let (success, date) = session.map_or((false, now()), |s| (true, s.login_time));
        let action = if success { "login" } else { "login_failed" };
        let entry = audit::signin_entry(&user, info, action, fields);
        let tried = attempt(success, date);
        state.store.transact(|tx| {
            if let Some(session) = session {
                crate::store::signin::create_session_in(tx, session)?;
            }
            record_attempt_in(tx, &account.id, &user.id, &tried)?;
            crate::store::audit::record_in(tx, &entry)
        })
    };
    let username = request.username.as_str();
    let record_attempt = &record_attempt;
    let fail = |error: ApiError, reason: &'static str| async move {
        throttle.failure(named, username, client.ip);
        let fields = vec![audit::change("reason", None, Some(&reason))];
        record_attempt(None, fields)?.durable().await?;
        Err::<LoggedIn, ApiError>(error)
    };
    if !check_password(state, &user, request.password.clone()).await? {
        return fail(ApiError::Unauthorized(WRONG.into()), "wrong_password").await;
    }
    if !matches!(user.status, UserStatus::Active | UserStatus::Reset) {
        let inactive = ApiError::Unauthorized("This user is not active.".into());
        return fail(inactive, "user_not_active").await;
    }
    let mut second_factor = None;
    if user.is_totp_enabled {
        let Some(code) = request.otp.as_deref().filter(|c| !c.trim().is_empty()) else {
            return fail(
                otp_error("Enter the code of your authenticator app, or a scratch code."),
                "code_missing",
            )
            .await;
        };
        second_factor = spend_code(state, &user, code).await?;
        if second_factor.is_none() {
            return fail(
                otp_error("The code is wrong or was used already."),
                "code_wrong",
            )
            .await;
        }
    }
    let kind = if user.status == UserStatus::Reset {
        SessionKind::PasswordChange
    } else if account.mfa_status.as_deref() == Some("enforced") && !user.is_totp_enabled {
        SessionKind::TotpSetup
    } else {
        SessionKind::Full
    };
    let (token, digest) = session::issue();
    let login_time = now();
    let max = i64::from(state.config.auth.session_max_hours) * 3_600_000;
    let record = SessionRecord {
        id: Id::new(),
        account_id: account.id,
        subject: user.id.id(),
        kind,
        token_digest: digest,
        login_time,
        last_used: login_time,
        expires_at: login_time + max,
        password_epoch: user.password_changed_time,
        key_digest: None,
        ip_address: client.ip_text(),
        user_agent: client.user_agent.clone(),
    };
    let fields = second_factor
        .map(|used| vec![audit::change("second_factor", None, Some(&used))])
        .unwrap_or_default();
    record_attempt(Some(&record), fields)?.durable().await?;
    throttle.success(named, &request.username);
    state
        .store
        .last_login
        .touch(&account.id, [user.id.id()], login_time);
    let expires_in = (session::ends_at(&record, &account, login_time) - login_time) / 1000;
    Ok(LoggedIn {
        token,
        session: record,
        expires_in,
    })
}

/// Checks and spends a TOTP or scratch code of `user` (its TOTP must be confirmed):
/// which it was (`"totp"` or `"scratch_code"`), `None` when it was wrong.
pub async fn spend_code(
    state: &AppState,
    user: &UserRecord,
    code: &str,
) -> ApiResult<Option<&'static str>> {
    let now = state.config.auth.clock.now_millis();
    let scratch = std::cell::Cell::new(false);
    let spent = state
        .store
        .signin
        .totp
        .update(&user.account_id, &user.id, &|r| {
            let codes = r.scratch_digests.len();
            let right = r.confirmed && super::totp::spend(r, code, now);
            scratch.set(r.scratch_digests.len() < codes);
            Ok(right)
        });
    let right = match spent {
        Ok(written) => written.durable().await?,
        Err(crate::store::StoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    Ok(right.then_some(if scratch.get() {
        "scratch_code"
    } else {
        "totp"
    }))
}
