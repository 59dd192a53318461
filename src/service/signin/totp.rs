//! TOTP: `POST /auth/totp` (a new secret, not yet on), `POST /auth/totp/confirm` (on, with
//! scratch codes), `POST /auth/totp/scratch-codes` (new scratch codes), and the rule for
//! `is_totp_enabled` in `PUT /v3/users/...` ([`check_update`]).

use crate::auth::{login, totp, Caller};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, RequestInfo};
use crate::service::scope::AccountScope;
use crate::state::AppState;
use crate::store::signin::{update_session_in, update_totp_in, SessionKind, TotpRecord};
use crate::store::users as store_users;
use crate::store::users::UserRecord;
use crate::store::StoreError;
use std::sync::Arc;

/// A new secret: base32 and the `otpauth://` URI.
pub struct NewSecret {
    pub secret: String,
    pub otpauth_uri: String,
}

/// The caller's own user: TOTP is a person's.
fn own_user(caller: &Caller) -> ApiResult<Arc<UserRecord>> {
    caller.owner.clone().ok_or_else(|| {
        ApiError::Forbidden("Only a user has TOTP: this API key has no owner.".into())
    })
}

fn otp_of(otp: Option<&str>) -> ApiResult<&str> {
    otp.map(str::trim)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| ApiError::field("otp", "Enter the code of your authenticator app."))
}

/// POST /auth/totp: a new secret for the caller, on once confirmed.
pub async fn setup(state: &AppState, caller: &Caller) -> ApiResult<NewSecret> {
    let user = own_user(caller)?;
    if user.is_totp_enabled {
        return Err(ApiError::Conflict(
            "TOTP is on already: turn it off first (PUT /v3/users/me with is_totp_enabled false)."
                .into(),
        ));
    }
    let secret = totp::new_secret();
    let record = TotpRecord {
        secret: secret.clone(),
        ..TotpRecord::default()
    };
    state
        .store
        .signin
        .totp
        .put(&user.account_id, &user.id, &record)?
        .durable()
        .await?;
    let issuer = caller
        .account
        .display_name
        .clone()
        .unwrap_or_else(|| "iamd".into());
    Ok(NewSecret {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &issuer, &user.email),
    })
}

/// POST /auth/totp/confirm: a code of the new secret turns TOTP on; the answer holds the
/// scratch codes, shown this once.
pub async fn confirm(
    state: &AppState,
    caller: &Caller,
    otp: Option<&str>,
    request: &RequestInfo,
) -> ApiResult<Vec<String>> {
    let user = own_user(caller)?;
    let code = otp_of(otp)?.to_string();
    let now = state.config.auth.clock.now_millis();
    let (codes, digests) = totp::new_scratch_codes();
    let confirm = |r: &mut TotpRecord| {
        if r.confirmed {
            return Err(StoreError::Conflict("TOTP is on already.".into()));
        }
        let Some(step) = totp::matching_step(&r.secret, &code, now, 0) else {
            return Ok(false);
        };
        r.confirmed = true;
        r.last_step = step;
        r.scratch_digests = digests.clone();
        Ok(true)
    };
    let turn_on = |u: &mut UserRecord| {
        u.is_totp_enabled = true;
        Ok(())
    };
    // The session that set TOTP up (an account that enforces it) may now do everything.
    let setup_session = caller
        .session
        .as_deref()
        .filter(|s| s.kind == SessionKind::TotpSetup);
    // One transaction: the secret confirmed, the user's flag, its audit entry and the
    // session land together, or (a wrong code, a user deleted meanwhile) none of them.
    let confirmed = state
        .store
        .transact(|tx| {
            if !update_totp_in(tx, &user.account_id, &user.id, &confirm)? {
                return Ok(false);
            }
            let after = store_users::update_in(tx, &user.account_id, &user.id, &turn_on)?;
            let fields = audit::diff(Some(&*user), Some(&after));
            let entry = audit::signin_entry(&user, request, "totp_enabled", fields);
            crate::store::audit::record_in(tx, &entry)?;
            if let Some(s) = setup_session {
                update_session_in(tx, s, &|s| s.kind = SessionKind::Full)?;
            }
            Ok(true)
        })
        .map_err(|e| match e {
            StoreError::NotFound("TOTP") => ApiError::Conflict(
                "There is no TOTP secret to confirm: ask for one with POST /auth/totp.".into(),
            ),
            e => e.into(),
        })?
        .durable()
        .await?;
    if !confirmed {
        return Err(ApiError::field("otp", "The code is wrong."));
    }
    Ok(codes)
}

/// POST /auth/totp/scratch-codes: new scratch codes (the old ones stop working), for a
/// current code.
pub async fn scratch_codes(
    state: &AppState,
    caller: &Caller,
    otp: Option<&str>,
    request: &RequestInfo,
) -> ApiResult<Vec<String>> {
    crate::auth::session::require_full(caller)?;
    let user = own_user(caller)?;
    if !user.is_totp_enabled {
        return Err(ApiError::Conflict("TOTP is off.".into()));
    }
    let code = otp_of(otp)?.to_string();
    let now = state.config.auth.clock.now_millis();
    let (codes, digests) = totp::new_scratch_codes();
    let renew = |r: &mut TotpRecord| {
        let Some(step) = totp::matching_step(&r.secret, &code, now, r.last_step) else {
            return Ok(false);
        };
        r.last_step = step;
        r.scratch_digests = digests.clone();
        Ok(true)
    };
    // The codes themselves are secrets: the entry says only that they changed.
    let fields = vec![audit::change(
        "totp_scratch_codes",
        None,
        Some(&audit::CHANGED),
    )];
    let entry = audit::signin_entry(&user, request, "scratch_codes_renewed", fields);
    let renewed = state
        .store
        .transact(|tx| {
            let renewed = update_totp_in(tx, &user.account_id, &user.id, &renew)?;
            if renewed {
                crate::store::audit::record_in(tx, &entry)?;
            }
            Ok(renewed)
        })?
        .durable()
        .await?;
    if !renewed {
        return Err(ApiError::field(
            "otp",
            "The code is wrong or was used already.",
        ));
    }
    Ok(codes)
}

/// The rule for `is_totp_enabled` in a user update: it is turned on only through
/// `POST /auth/totp/confirm`; a user turns it off for itself with a current `otp`; an
/// admin turns it off for another user (a reset). Returns whether the update turns it off
/// (then the update forgets the secret in its transaction, `delete_totp_in`).
pub async fn check_update(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    wanted: Option<bool>,
    otp: Option<&str>,
) -> ApiResult<bool> {
    match wanted {
        None => Ok(false),
        Some(w) if w == user.is_totp_enabled => Ok(false),
        Some(true) => Err(ApiError::field(
            "is_totp_enabled",
            "Turn TOTP on with POST /auth/totp and POST /auth/totp/confirm.",
        )),
        Some(false) => {
            let is_self = !scope.tenant && scope.caller.user_id() == Some(user.id);
            if !is_self {
                return Ok(true);
            }
            let code = otp
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ApiError::field("otp", "Turning TOTP off needs a current code."))?;
            if login::spend_code(state, user, code).await?.is_none() {
                return Err(ApiError::field(
                    "otp",
                    "The code is wrong or was used already.",
                ));
            }
            Ok(true)
        }
    }
}
