//! Changing a password: by its user (`POST /auth/change-password`) or with an emailed
//! reset token (`POST /auth/reset-password`). Either checks the account's policy and the
//! strength rules (`strength`), sets `password_changed_time`, makes the user ACTIVE,
//! and ends the user's other sessions (see `session::password_current`).

use crate::error::{ApiError, ApiResult};
use crate::service::audit::RequestInfo;
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::signin::{SessionKind, SessionRecord};
use crate::store::users::UserRecord;

/// 400 naming `field` when `new` may not be `user`'s password.
pub fn check_new(
    account: &AccountRecord,
    user: &UserRecord,
    new: &str,
    field: &str,
) -> ApiResult<()> {
    match super::strength::problem(
        new,
        account.password_minimum_length,
        &user.email,
        user.username.as_deref(),
    ) {
        Some(problem) => Err(ApiError::field(field, problem)),
        None => Ok(()),
    }
}

/// What a session may do once its user has a password of its own.
pub fn kind_after_change(account: &AccountRecord, user: &UserRecord) -> SessionKind {
    if account.mfa_status.as_deref() == Some("enforced") && !user.is_totp_enabled {
        SessionKind::TotpSetup
    } else {
        SessionKind::Full
    }
}

/// Sets `user`'s password to `new` (already checked). `keep` is the session the change was
/// made from: it goes on under the new password (a password-change-only session becomes a
/// full one), every other session of the user ends. Returns the updated user.
pub async fn set(
    state: &AppState,
    account: &AccountRecord,
    user: &UserRecord,
    new: String,
    keep: Option<&SessionRecord>,
    audit: (&RequestInfo, &str),
) -> ApiResult<UserRecord> {
    let hash = super::password::hash_chosen(new).await?;
    // Newer than every session's epoch, whatever the clock did.
    let changed = crate::clock::now_millis().max(user.password_changed_time.unwrap_or(0) + 1);
    let sessions = &state.store.signin.sessions;
    if let Some(s) = keep.filter(|s| s.kind != SessionKind::Client) {
        let next = kind_after_change(account, user);
        let moved = sessions.update(s, &|s| {
            s.password_epoch = Some(changed);
            if s.kind == SessionKind::PasswordChange {
                s.kind = next;
            }
        });
        match moved {
            Ok(written) => drop(written),
            // Ended meanwhile (logged out): the change still goes through.
            Err(crate::store::StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let change = |u: &mut UserRecord| {
        u.password_hash = Some(hash.clone());
        u.password_changed_time = Some(changed);
        // A password of one's own: a RESET user is done, an invited or enrolling one
        // has accepted (the caller checked the invitation).
        if matches!(
            u.status,
            UserStatus::Reset | UserStatus::Invited | UserStatus::Enrolling
        ) {
            u.status = UserStatus::Active;
        }
        Ok(())
    };
    let (request, action) = audit;
    let updated = state
        .store
        .transact(|tx| {
            let after = crate::store::users::update_in(tx, &account.id, &user.id, &change)?;
            let fields = crate::service::audit::diff(Some(user), Some(&after));
            let entry = crate::service::audit::signin_entry(user, request, action, fields);
            crate::store::audit::record_in(tx, &entry)?;
            Ok(after)
        })?
        .durable()
        .await?;
    let keep_id = keep.map(|s| s.id);
    sessions
        .end_others(&account.id, &user.id, keep_id.as_ref())?
        .durable()
        .await?;
    Ok(updated)
}
