//! User invitations.
//!
//! Who is invited: the invitation's `user_id` is the account's user with the invited email
//! when there is one (an existing user can be re-invited); otherwise the invitation creates
//! that user with status INVITED, in the invitation's groups and with its login profiles,
//! exactly as `POST /v3/users?action=invite` would. Revoking an invitation that created its
//! user removes that user again while it is still INVITED and no other live invitation
//! names it, so a withdrawn invitation leaves nothing behind. Accepting (which needs the
//! token, kept only as a SHA-256 digest) is not part of this API.

use super::filter::Filter;
use super::identity_providers::{check_login_profiles, profile_ids, LoginProfileRef};
use super::scope::AccountScope;
use super::user_record::new_record;
use super::validate::{self, Checks};
use crate::clock::{now_millis, rfc3339};
use crate::error::ApiResult;
use crate::ids::{AccountId, Id, InvitationId};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::invitations::InvitationRecord;
use crate::store::users::UserRecord;
use crate::store::{Page, PageRequest};
use serde::Deserialize;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
pub const DEFAULT_VALID_FOR_DAYS: i64 = 30;

/// An invitation to record and send.
pub struct NewInvitation {
    pub user: UserRecord,
    pub created_user: bool,
    pub groups: Vec<Id>,
    pub login_profiles: Vec<Id>,
    pub valid_for_days: i64,
}

/// Records an invitation with a fresh acceptance token and emails that token to the user.
/// Shared with `POST /v3/users?action=invite`.
pub async fn issue(
    state: &AppState,
    account: &AccountRecord,
    new: NewInvitation,
) -> ApiResult<InvitationRecord> {
    let token = crate::auth::apikey::random_secret(43);
    let now = now_millis();
    let record = InvitationRecord {
        id: InvitationId::new(),
        account_id: account.id,
        email: new.user.email.clone(),
        user_id: new.user.id,
        created_user: new.created_user,
        groups: new.groups,
        login_profiles: new.login_profiles,
        token_digest: crate::auth::apikey::digest(&token),
        created_at: now,
        updated_at: now,
        expires_at: now + new.valid_for_days * DAY_MS,
        etag: 1,
    };
    let name = crate::email::inline(
        &account
            .display_name
            .clone()
            .unwrap_or_else(|| account.id.hex()),
    );
    let link = crate::console::link(&state.config.public_url(), "invitation", &token);
    let body = format!(
        "Hello,\n\nYou have been invited to join the account \"{name}\".\n\n\
         To accept, open this link:\n{link}\n\n\
         The invitation expires at {}.\n",
        rfc3339(record.expires_at)
    );
    let email = crate::email::Email {
        to: record.email.clone(),
        subject: format!("Invitation to join {name}"),
        body,
        secrets: vec![token],
    };
    let outgoing = crate::email::compose(state, &account.id, &email).await;
    // The invitation and its email's log entry commit together.
    let written = state
        .store
        .invitations
        .create(record, Some(&outgoing.entry))?;
    crate::email::deliver(state, written, outgoing).await
}

/// `UserInvitationReq`.
#[derive(Deserialize)]
pub struct InvitationCreate {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub login_profiles: Option<Vec<LoginProfileRef>>,
    #[serde(default)]
    pub valid_for_days: Option<i64>,
}

/// POST /v3/user-invitations
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    req: InvitationCreate,
) -> ApiResult<InvitationRecord> {
    let mut c = Checks::new();
    match &req.email {
        Some(e) => c.email("email", Some(e)),
        None => c.fail("email", "Required."),
    }
    c.range("valid_for_days", req.valid_for_days, 1, 100);
    c.finish()?;
    let email = req.email.unwrap_or_default();
    let account = scope.id();
    let groups = validate::ids("groups", req.groups.as_deref().unwrap_or_default())?;
    super::groups::check_groups(state, &account, &groups)?;
    let profile_ids = profile_ids(&req.login_profiles);
    check_login_profiles(state, &account, &profile_ids)?;
    let login_profiles = validate::ids("login_profiles", &profile_ids)?;
    // one transaction: see issue 15 (the invited user, when there is none, then the
    // invitation).
    let (user, created_user) = match state.store.users.by_email(&account, &email)? {
        Some(user) => (user, false),
        None => {
            let user = new_record(
                account,
                email,
                UserStatus::Invited,
                crate::auth::password::hash_generated(&crate::auth::password::generate()),
                groups.clone(),
                login_profiles.clone(),
            );
            (state.store.users.create(user, None)?.durable().await?, true)
        }
    };
    issue(
        state,
        &scope.account,
        NewInvitation {
            user,
            created_user,
            groups,
            login_profiles,
            valid_for_days: req.valid_for_days.unwrap_or(DEFAULT_VALID_FOR_DAYS),
        },
    )
    .await
}

/// GET /v3/user-invitations/{invitation_id}: the invitation of `account` with `id`. An
/// expired invitation is gone: `None` like an unknown one.
pub fn get(state: &AppState, account: &Id, id: &Id) -> ApiResult<Option<InvitationRecord>> {
    Ok(state.store.invitations.get(account, id, now_millis())?)
}

/// GET /v3/user-invitations: the live invitations.
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<InvitationRecord>> {
    Ok(state
        .store
        .invitations
        .list(account, page, now_millis(), filters)?)
}

/// DELETE /v3/user-invitations/{invitation_id}
pub async fn delete(
    state: &AppState,
    scope: &AccountScope,
    invitation: &InvitationRecord,
) -> ApiResult<()> {
    let account = scope.id();
    // one transaction: see issue 15 (the invitation, then the user it created).
    state
        .store
        .invitations
        .delete(&account, &invitation.id)?
        .durable()
        .await?;
    if invitation.created_user {
        remove_invited_user(state, scope, invitation).await?;
    }
    Ok(())
}

/// Removes the user a revoked invitation created, if nobody has made it more than that:
/// still INVITED and not named by another live invitation.
async fn remove_invited_user(
    state: &AppState,
    scope: &AccountScope,
    invitation: &InvitationRecord,
) -> ApiResult<()> {
    let account = scope.id();
    let Some(user) = state.store.users.get(&account, &invitation.user_id)? else {
        return Ok(());
    };
    let still_invited = [Filter::eq("user_id", &user.id.hex())];
    let others = state.store.invitations.list(
        &account,
        &PageRequest::all(),
        now_millis(),
        &still_invited,
    )?;
    if user.status != UserStatus::Invited || !others.items.is_empty() {
        return Ok(());
    }
    match state
        .store
        .users
        .delete(&account, &user.id, Some(scope.admin_group().id()))
    {
        Ok(w) => Ok(w.durable().await?),
        // The last administrator stays, invited or not.
        Err(crate::store::StoreError::Invalid(..)) | Err(crate::store::StoreError::NotFound(_)) => {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
