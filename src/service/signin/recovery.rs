//! Links sent by email: `POST /auth/forgot-password` sends one to reset a password,
//! `POST /auth/reset-password` spends it; `POST /auth/verify-email` spends the link of an
//! admin's `validate-email`. Tokens are 43 random characters kept only as SHA-256 digests,
//! single use, with an expiry (a reset: the account's `password_recovery_expiration`
//! minutes).

use crate::auth::throttle::LoginThrottle;
use crate::auth::{apikey, login, passwords};
use crate::email::Email;
use crate::error::{ApiError, ApiResult};
use crate::service::audit::RequestInfo;

use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::signin::{AuthTokenKind, AuthTokenRecord};
use crate::store::users::UserRecord;
use std::sync::Arc;

/// How long an email verification link works.
const VERIFY_EMAIL_MILLIS: i64 = 24 * 3_600_000;
const TOKEN_LEN: usize = 43;

/// A new token for `user`, stored as its digest with `entry` (its audit entry, if any);
/// returns the token.
async fn issue(
    state: &AppState,
    kind: AuthTokenKind,
    user: &UserRecord,
    lifetime_millis: i64,
    entry: Option<&crate::store::audit::AuditRecord>,
) -> ApiResult<String> {
    let token = apikey::random_secret(TOKEN_LEN);
    let record = AuthTokenRecord {
        kind,
        account_id: user.account_id,
        user_id: user.id,
        email: user.email.clone(),
        expires_at: state.config.auth.clock.now_millis() + lifetime_millis,
    };
    state
        .store
        .signin
        .tokens
        .create_with(&apikey::digest(&token), &record, &|tx| match entry {
            Some(e) => crate::store::audit::record_in(tx, e),
            None => Ok(()),
        })?
        .durable()
        .await?;
    Ok(token)
}

/// The link a person follows: the console's page for it.
fn link(state: &AppState, page: &str, token: &str) -> String {
    crate::console::link(&state.config.public_url(), page, token)
}

/// POST /auth/forgot-password: 204 whether or not the email is known. The lookup and the
/// email happen after the answer, so its time tells nothing either.
pub fn forgot_password(
    state: Arc<AppState>,
    throttle: &LoginThrottle,
    email: String,
    account: Option<String>,
    request: RequestInfo,
) -> ApiResult<()> {
    if !crate::service::validate::is_email(&email) {
        return Err(ApiError::field("email", "Enter an email address."));
    }
    // A stranger may ask, but not flood an inbox: past `auth.login_failures_per_user`
    // requests for one address within `auth.lockout_secs`, no more emails go (the answer
    // stays the same).
    let asked = format!("forgot-password:{}", email.to_lowercase());
    if throttle.locked(None, &asked, None).is_some() {
        return Ok(());
    }
    throttle.failure(None, &asked, None);
    actix_web::rt::spawn(async move {
        if let Err(e) = send_resets(&state, account.as_deref(), &email, &request).await {
            log::warn!("password reset email: {e}");
        }
    });
    Ok(())
}

/// Sends a reset link to each user with `email` (in `account`, or in every account).
async fn send_resets(
    state: &AppState,
    account: Option<&str>,
    email: &str,
    request: &RequestInfo,
) -> ApiResult<()> {
    let mut users = Vec::new();
    match account {
        Some(_) => users.extend(login::find_user(state, account, email)?),
        None => {
            for account in state.store.signin.directory.account_ids() {
                let account = account?;
                if let Some(found) = state.store.users.by_email(&account, email)? {
                    if let Some(a) = state.store.accounts.get_shared(&account)? {
                        users.push((a, found));
                    }
                }
            }
        }
    }
    for (account, user) in users {
        if !matches!(user.status, UserStatus::Active | UserStatus::Reset) {
            continue;
        }
        let minutes = i64::from(account.password_recovery_expiration.max(1));
        // A person asked for a link (the requester may be anyone: the entry says from
        // where); the change, if any, is the `password_reset` that spends it.
        let entry = crate::service::audit::signin_entry(
            &user,
            request,
            "password_reset_requested",
            Vec::new(),
        );
        let lifetime = minutes * 60_000;
        let token = issue(
            state,
            AuthTokenKind::PasswordReset,
            &user,
            lifetime,
            Some(&entry),
        )
        .await?;
        let name = crate::email::account_name(&account);
        let body = format!(
            "Hello,\n\nSomeone asked to reset the password of {} in the account \"{name}\".\n\n\
             To choose a new password, follow this link within {minutes} minutes:\n{}\n\n\
             If it was not you, ignore this email: your password stays as it is.\n",
            user.email,
            link(state, "reset-password", &token)
        );
        crate::email::send(
            state,
            &account.id,
            Email {
                to: user.email.clone(),
                subject: "Reset your password".into(),
                body,
                secrets: vec![token],
            },
        )
        .await?;
    }
    Ok(())
}

fn bad_token() -> ApiError {
    ApiError::field(
        "token",
        "The link is not valid, was used already or has expired.",
    )
}

/// The unexpired token of `kind` that `token` is, with its user and account.
fn find(
    state: &AppState,
    token: Option<&str>,
    kind: AuthTokenKind,
) -> ApiResult<(Vec<u8>, AuthTokenRecord)> {
    let token = token
        .filter(|t| t.len() == TOKEN_LEN)
        .ok_or_else(bad_token)?;
    let digest = apikey::digest(token);
    let record = state
        .store
        .signin
        .tokens
        .get(&digest)?
        .filter(|r| r.kind == kind)
        .filter(|r| r.expires_at > state.config.auth.clock.now_millis())
        .ok_or_else(bad_token)?;
    Ok((digest, record))
}

/// Spends the token (once: a second spend finds nothing).
async fn spend(state: &AppState, digest: &[u8], kind: AuthTokenKind) -> ApiResult<()> {
    let spent = state
        .store
        .signin
        .tokens
        .spend(digest, kind)?
        .durable()
        .await?;
    spent.map(|_| ()).ok_or_else(bad_token)
}

fn user_of(state: &AppState, record: &AuthTokenRecord) -> ApiResult<UserRecord> {
    state
        .store
        .users
        .get(&record.account_id, &record.user_id)?
        .filter(|u| u.email.eq_ignore_ascii_case(&record.email))
        .ok_or_else(bad_token)
}

/// POST /auth/reset-password: a new password with the emailed token; ends every session
/// of the user and makes a RESET user ACTIVE.
pub async fn reset_password(
    state: &AppState,
    token: Option<&str>,
    password: Option<String>,
    request: &RequestInfo,
) -> ApiResult<()> {
    let (digest, record) = find(state, token, AuthTokenKind::PasswordReset)?;
    let user = user_of(state, &record)?;
    let account = state
        .store
        .accounts
        .get_shared(&record.account_id)?
        .ok_or_else(bad_token)?;
    let password = password.unwrap_or_default();
    passwords::check_new(&account, &user, &password, "password")?;
    spend(state, &digest, AuthTokenKind::PasswordReset).await?;
    passwords::set(
        state,
        &account,
        &user,
        password,
        None,
        (request, "password_reset"),
    )
    .await?;
    Ok(())
}

/// POST /auth/verify-email: the link of an admin's `validate-email` marks the address
/// verified (if it is still the user's address).
pub async fn verify_email(
    state: &AppState,
    token: Option<&str>,
    request: &RequestInfo,
) -> ApiResult<()> {
    let (digest, record) = find(state, token, AuthTokenKind::VerifyEmail)?;
    let user = user_of(state, &record)?;
    spend(state, &digest, AuthTokenKind::VerifyEmail).await?;
    let email = record.email.clone();
    let verify = |u: &mut UserRecord| {
        if u.email.eq_ignore_ascii_case(&email) {
            u.email_verified = true;
        }
        Ok(())
    };
    state
        .store
        .transact(|tx| {
            let after = crate::store::users::update_in(tx, &record.account_id, &user.id, &verify)?;
            let fields = crate::service::audit::diff(Some(&user), Some(&after));
            let entry =
                crate::service::audit::signin_entry(&user, request, "email_verified", fields);
            crate::store::audit::record_in(tx, &entry)
        })?
        .durable()
        .await?;
    Ok(())
}

/// The email of `POST .../users/{id}/validate-email`: a link that verifies the address.
pub async fn verify_email_message(
    state: &AppState,
    account_name: &str,
    user: &UserRecord,
) -> ApiResult<Email> {
    let token = issue(
        state,
        AuthTokenKind::VerifyEmail,
        user,
        VERIFY_EMAIL_MILLIS,
        None,
    )
    .await?;
    let body = format!(
        "Hello,\n\nAn administrator of the account \"{account_name}\" asked you to confirm that \
         {} is your email address.\n\nTo confirm it, follow this link within 24 hours:\n{}\n",
        user.email,
        link(state, "verify-email", &token)
    );
    Ok(Email {
        to: user.email.clone(),
        subject: "Please confirm your email address".into(),
        body,
        secrets: vec![token],
    })
}
