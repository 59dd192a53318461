//! User invitations.
//!
//! Who is invited: the invitation's `user_id` is the account's user with the invited email
//! when there is one (an existing user can be re-invited); otherwise the invitation creates
//! that user with status INVITED, in the invitation's groups and with its login profiles,
//! exactly as `POST /v3/users?action=invite` would. Revoking an invitation that created its
//! user removes that user again while it is still INVITED and no other live invitation
//! names it, so a withdrawn invitation leaves nothing behind. Accepting (which needs the
//! token, kept only as a SHA-256 digest) is not part of this API.

use super::audit;
use super::filter::Filter;
use super::identity_providers::{check_login_profiles, profile_ids, LoginProfileRef};
use super::scope::AccountScope;
use super::user_record::new_record;
use super::validate::{self, Checks};
use crate::clock::{now_millis, rfc3339};
use crate::error::ApiResult;
use crate::ids::{AccountId, Id, InvitationId, UserId};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::engine::{read_in, Table};
use crate::store::invitations::InvitationRecord;
use crate::store::keys::owned;
use crate::store::users::email_key;
use crate::store::users::UserRecord;
use crate::store::{apikeys, invitations as store_invitations, users as store_users};
use crate::store::{Page, PageRequest, StoreError};
use serde::Deserialize;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
pub const DEFAULT_VALID_FOR_DAYS: i64 = 30;

/// An invitation to record and send.
pub struct NewInvitation {
    pub email: String,
    pub groups: Vec<Id>,
    pub login_profiles: Vec<Id>,
    pub valid_for_days: i64,
}

/// An invitation ready to commit: its record (the invited user's id and `created_user`
/// still to set, inside the transaction that writes it) and its email.
pub struct Prepared {
    pub record: InvitationRecord,
    pub outgoing: crate::email::Outgoing,
}

impl Prepared {
    /// The record for the user `user`; `created_user` when this request creates it.
    pub fn record_for(&self, user: &Id, created_user: bool) -> InvitationRecord {
        InvitationRecord {
            user_id: UserId::from_id(*user),
            created_user,
            ..self.record.clone()
        }
    }
}

/// Prepares an invitation with a fresh acceptance token and the email that carries it.
/// Shared with `POST /v3/users?action=invite`; the caller commits the record (with
/// `invitations::create_in`) and then delivers the email (`email::deliver`).
pub async fn prepare(state: &AppState, account: &AccountRecord, new: NewInvitation) -> Prepared {
    let token = crate::auth::apikey::random_secret(43);
    let now = now_millis();
    let record = InvitationRecord {
        id: InvitationId::new(),
        account_id: account.id,
        email: new.email,
        user_id: UserId::new(),
        created_user: false,
        groups: new.groups,
        login_profiles: new.login_profiles,
        token_digest: crate::auth::apikey::digest(&token),
        created_at: now,
        updated_at: now,
        expires_at: now + new.valid_for_days * DAY_MS,
        etag: 1,
    };
    let name = crate::email::account_name(account);
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
    Prepared { record, outgoing }
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
    let prepared = prepare(
        state,
        &scope.account,
        NewInvitation {
            email: email.clone(),
            groups: groups.clone(),
            login_profiles: login_profiles.clone(),
            valid_for_days: req.valid_for_days.unwrap_or(DEFAULT_VALID_FOR_DAYS),
        },
    )
    .await;
    // The user to create when the account has none with this email (its id is fixed here
    // so that a retried transaction creates the same user).
    let invited = new_record(
        account,
        email.clone(),
        UserStatus::Invited,
        crate::auth::password::hash_generated(&crate::auth::password::generate()),
        groups,
        login_profiles,
    );
    // One transaction: the invited user (when there is none) and the invitation.
    let written = state.store.transact(|tx| {
        let existing = tx
            .get(Table::EmailUserid, &email_key(&account, &email))?
            .and_then(|raw| Id::from_slice(&raw));
        let record = match existing {
            Some(user) => prepared.record_for(&user, false),
            None => {
                let user = store_users::create_in(tx, &invited, None)?;
                audit::record(tx, scope, "create", ("user", &user.id), None, Some(&user))?;
                prepared.record_for(&invited.id, true)
            }
        };
        store_invitations::create_in(tx, &record, Some(&prepared.outgoing.entry))?;
        let target = ("user-invitation", &*record.id);
        audit::record(tx, scope, "create", target, None, Some(&record))?;
        Ok(record)
    })?;
    crate::email::deliver(state, written, prepared.outgoing).await
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
    let admins = Some(scope.admin_group().id());
    // The user the invitation created goes with it while nobody made it more than that:
    // still INVITED and named by no other live invitation. The other invitations are read
    // before the transaction (an engine may not scan inside one) and re-read inside it by
    // id; an invitation made for the user in between is one more reason to keep it, and
    // it names the user, so the transaction's own read of the user record conflicts.
    let others: Vec<Id> = if invitation.created_user {
        store_invitations::ids_for_user(&*state.store.engine, &account, &invitation.user_id)?
            .into_iter()
            .filter(|id| *id != *invitation.id)
            .collect()
    } else {
        Vec::new()
    };
    let owned_keys = apikeys::owned_by(&*state.store.engine, &account, &invitation.user_id)?;
    let now = now_millis();
    let with_user = state.store.transact(|tx| {
        store_invitations::delete_in(tx, &account, &invitation.id)?;
        let target = ("user-invitation", &*invitation.id);
        audit::record(tx, scope, "delete", target, Some(invitation), None)?;
        if !invitation.created_user {
            return Ok(false);
        }
        let key = owned(&account, &invitation.user_id);
        let Some(user) = read_in::<UserRecord>(tx, Table::UseridUser, &key)? else {
            return Ok(false);
        };
        for other in &others {
            let live = read_in::<InvitationRecord>(
                tx,
                Table::InvitationidInvitation,
                &owned(&account, other),
            )?
            .is_some_and(|r| r.is_live(now));
            if live {
                return Ok(false);
            }
        }
        if user.status != UserStatus::Invited {
            return Ok(false);
        }
        store_users::delete_in(tx, &account, &user.id, &owned_keys, admins)?;
        audit::record(tx, scope, "delete", ("user", &user.id), Some(&user), None)?;
        Ok(true)
    });
    match with_user {
        Ok(w) => {
            if w.durable().await? {
                store_users::finish_delete(
                    &*state.store.engine,
                    &state.store.last_login,
                    &account,
                    &invitation.user_id,
                    owned_keys,
                )?;
            }
        }
        // The last administrator stays, invited or not: the invitation goes alone.
        Err(StoreError::Invalid(..)) => {
            state
                .store
                .transact(|tx| {
                    store_invitations::delete_in(tx, &account, &invitation.id)?;
                    let target = ("user-invitation", &*invitation.id);
                    audit::record(tx, scope, "delete", target, Some(invitation), None)
                })?
                .durable()
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
