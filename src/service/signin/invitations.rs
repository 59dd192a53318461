//! Invitations accepted: `GET /auth/invitations/{token}` shows what the emailed token
//! invites to; `POST /auth/invitations/{token}/accept` sets the invited user's password and
//! makes it ACTIVE, joins the invitation's groups, and deletes the invitation (the token is
//! then spent). Unknown, spent and expired tokens are 404 alike. A user invited into several
//! accounts has one token per invitation and accepts each separately.

use crate::auth::{apikey, passwords};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::RequestInfo;
use crate::service::validate::Checks;
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::invitations::InvitationRecord;
use crate::store::users::UserRecord;
use serde::Deserialize;
use std::sync::Arc;

fn not_found() -> ApiError {
    ApiError::NotFound("The invitation is not valid, was accepted already or has expired.".into())
}

/// The live invitation `token` names, and its account (`GET /auth/invitations/{token}`).
pub fn find(state: &AppState, token: &str) -> ApiResult<(InvitationRecord, Arc<AccountRecord>)> {
    if token.len() != 43 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(not_found());
    }
    let now = crate::clock::now_millis();
    let invitation = state
        .store
        .invitations
        .by_token_digest(&apikey::digest(token), now)?
        .filter(|i| apikey::constant_time_eq(&i.token_digest, &apikey::digest(token)))
        .ok_or_else(not_found)?;
    let account = state
        .store
        .accounts
        .get_shared(&invitation.account_id)?
        .ok_or_else(not_found)?;
    Ok((invitation, account))
}

/// The body of an acceptance.
#[derive(Deserialize)]
pub struct AcceptBody {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// POST /auth/invitations/{token}/accept
pub async fn accept(
    state: &AppState,
    token: &str,
    body: AcceptBody,
    request: &RequestInfo,
) -> ApiResult<UserRecord> {
    let (invitation, account) = find(state, token)?;
    let mut c = Checks::new();
    c.username("username", body.username.as_deref());
    c.text("full_name", body.full_name.as_deref(), 100);
    c.check(
        body.password.as_deref().is_some_and(|p| !p.is_empty()),
        "password",
        "Choose a password.",
    );
    c.finish()?;
    let user = state
        .store
        .users
        .get(&account.id, &invitation.user_id)?
        .ok_or_else(not_found)?;
    if user.status == UserStatus::Inactive {
        return Err(ApiError::Forbidden("This user is not active.".into()));
    }
    let mut named = user.clone();
    if let Some(u) = &body.username {
        named.username = Some(u.clone());
    }
    let password = body.password.unwrap_or_default();
    passwords::check_new(&account, &named, &password, "password")?;
    if let Some(name) = &body.username {
        let holder = state
            .store
            .signin
            .directory
            .user_by_name(&account.id, name)?;
        if holder.is_some_and(|h| h != user.id.id()) {
            return Err(ApiError::Conflict(format!(
                "A user with username '{name}' already exists."
            )));
        }
    }
    // The invitation goes first: of two acceptances racing, one wins.
    state
        .store
        .invitations
        .delete(&account.id, &invitation.id)
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => not_found(),
            e => e.into(),
        })?
        .durable()
        .await?;
    let (full_name, username) = (body.full_name, body.username);
    let renamed = state.store.users.update(&account.id, &user.id, &|u| {
        if let Some(n) = &full_name {
            u.full_name = Some(n.clone());
        }
        if let Some(n) = &username {
            u.username = Some(n.clone());
        }
        // Following the emailed link proves the address.
        u.email_verified = true;
        Ok(())
    })?;
    let user = renamed.durable().await?;
    // An ENROLLING user is the admin of a new tenant finishing its enrollment.
    let action = if user.status == UserStatus::Enrolling {
        "enrollment_completed"
    } else {
        "invitation_accepted"
    };
    // Sets the password, ACTIVE from INVITED/RESET, ends any other session.
    let user = passwords::set(state, &account, &user, password, None, (request, action)).await?;
    let mut add = Vec::new();
    for g in &invitation.groups {
        if !user.groups.contains(g) && state.store.groups.get(&account.id, g)?.is_some() {
            add.push(*g);
        }
    }
    if add.is_empty() {
        return Ok(user);
    }
    Ok(state
        .store
        .users
        .change_groups(&account.id, &user.id, &add, &[], None)?
        .durable()
        .await?)
}
