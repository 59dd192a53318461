//! Users: creating (and inviting), updating, deleting and listing the users of an account.
//!
//! `create` with a password makes an ACTIVE user (the password checked against the
//! account's policy); without one the server generates a password, returns it once, emails
//! it, and the user is RESET (must change it). `action=invite` makes an INVITED user and
//! sends an invitation (see `invitations`).

use super::audit;
use super::filter::Filter;
use super::identity_providers::{check_login_profiles, profile_ids};
use super::invitations::{prepare, NewInvitation, DEFAULT_VALID_FOR_DAYS};
use super::scope::AccountScope;
use super::user_record::new_record;
use super::validate::{self, Checks};
use crate::auth::password;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, Id};
use crate::store::audit::record_in;
use crate::store::engine::read_ahead::with_read_ahead;
use crate::store::engine::Table;
use crate::store::keys::owned;

pub use super::identity_providers::LoginProfileRef;
pub use input::{same_set, UserCreate, UserUpdate};

mod input;
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::memberships::change_groups_in;
use crate::store::signin::delete_totp_in;
use crate::store::users::UserRecord;
use crate::store::{apikeys, invitations as store_invitations, users as store_users};
use crate::store::{Page, PageRequest};

/// A created user, and the password the server generated for it (shown once).
pub struct Created {
    pub user: UserRecord,
    pub generated_password: Option<String>,
}

/// POST /v3/users (`action` is `create` or `invite`).
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    action: &str,
    req: UserCreate,
) -> ApiResult<Created> {
    let mut c = Checks::new();
    c.one_of("action", Some(action), &["create", "invite"]);
    c.email("email", Some(&req.email));
    c.username("username", req.username.as_deref());
    c.text("full_name", req.full_name.as_deref(), 100);
    c.text("address", req.address.as_deref(), 100);
    c.text("phone_number", req.phone_number.as_deref(), 100);
    if let Some(p) = &req.password {
        let min = scope.account.password_minimum_length.max(8) as usize;
        c.check(
            p.chars().count() >= min,
            "password",
            format!("Must be at least {min} characters."),
        );
        c.max_len("password", Some(p), 512);
    }
    c.finish()?;
    let account = scope.id();
    let groups = validate::ids("groups", req.groups.as_deref().unwrap_or_default())?;
    super::groups::check_groups(state, &account, &groups)?;
    let profile_ids = profile_ids(&req.login_profiles);
    check_login_profiles(state, &account, &profile_ids)?;
    let login_profiles = validate::ids("login_profiles", &profile_ids)?;
    let (status, password_hash, generated) = match (action, req.password) {
        ("invite", _) => (
            UserStatus::Invited,
            password::hash_generated(&password::generate()),
            None,
        ),
        // ~0.2 s of CPU: on the blocking pool, after every cheap check has passed.
        (_, Some(p)) => (UserStatus::Active, password::hash_chosen(p).await?, None),
        (_, None) => {
            let p = password::generate();
            (UserStatus::Reset, password::hash_generated(&p), Some(p))
        }
    };
    let user = UserRecord {
        username: req.username,
        full_name: req.full_name,
        address: req.address,
        phone_number: req.phone_number,
        is_gtc_accepted: req.is_gtc_accepted.unwrap_or(false),
        is_marketing_accepted: req.is_marketing_accepted.unwrap_or(false),
        ..new_record(
            account,
            req.email,
            status,
            password_hash,
            groups.clone(),
            login_profiles.clone(),
        )
    };
    if status == UserStatus::Invited {
        // The user exists because of this request, not of the invitation: revoking the
        // invitation later leaves the user alone (`created_user` false).
        let new = NewInvitation {
            email: user.email.clone(),
            groups,
            login_profiles,
            valid_for_days: DEFAULT_VALID_FOR_DAYS,
        };
        let prepared = prepare(state, &scope.account, new).await;
        let record = prepared.record_for(&user.id, false);
        // One transaction: the user, its invitation and the invitation email's log entry.
        let written = state.store.transact(|tx| {
            let created = store_users::create_in(tx, &user, None)?;
            store_invitations::create_in(tx, &record, Some(&prepared.outgoing.entry))?;
            let fields = audit::diff(None, Some(&created));
            record_in(
                tx,
                &audit::entry(scope, "create", "user", &created.id, fields),
            )?;
            Ok(created)
        })?;
        let created = crate::email::deliver(state, written, prepared.outgoing).await?;
        return Ok(Created {
            user: created,
            generated_password: None,
        });
    }
    let outgoing = match generated.as_deref() {
        Some(p) => Some(password_email(state, scope, &user.email, p).await),
        None => None,
    };
    // The user and its password email's log entry commit together.
    let logged = outgoing.as_ref().map(|o| &o.entry);
    let written = state.store.transact(|tx| {
        let created = store_users::create_in(tx, &user, logged)?;
        let fields = audit::diff(None, Some(&created));
        record_in(
            tx,
            &audit::entry(scope, "create", "user", &created.id, fields),
        )?;
        Ok(created)
    })?;
    let created = match outgoing {
        Some(o) => crate::email::deliver(state, written, o).await?,
        None => written.durable().await?,
    };
    Ok(Created {
        user: created,
        generated_password: generated,
    })
}

async fn password_email(
    state: &AppState,
    scope: &AccountScope,
    to: &str,
    password: &str,
) -> crate::email::Outgoing {
    let name = scope.name_for_email();
    let body = format!(
        "Hello,\n\nA user was created for you in the account \"{name}\".\n\n\
         Your temporary password: {password}\n\n\
         You must choose a new password when you first sign in.\n"
    );
    let email = crate::email::Email {
        to: to.to_string(),
        subject: format!("Your new user in {name}"),
        body,
        secrets: vec![password.to_string()],
    };
    crate::email::compose(state, &scope.id(), &email).await
}

/// The user the caller acts for, or 404 when its key has no owner: the record this
/// request's authentication read (a key whose owner is gone never gets this far).
pub fn me(scope: &AccountScope) -> ApiResult<&UserRecord> {
    scope
        .caller
        .owner
        .as_deref()
        .ok_or_else(|| ApiError::not_found("User"))
}

/// GET /v3/users/{user_id}: the user of `account` with `id`.
pub fn get(state: &AppState, account: &AccountId, id: &Id) -> ApiResult<Option<UserRecord>> {
    Ok(state.store.users.get(account, id)?)
}

/// When a user or API key of `account` last authenticated; 0 until it first does (the
/// document's examples always carry it).
pub fn last_login_time(state: &AppState, account: &AccountId, subject: &Id) -> ApiResult<i64> {
    Ok(state.store.last_login.get(account, subject)?.unwrap_or(0))
}

/// Runs `work` (the views of `users`) with what those views read besides the records, each
/// user's login history and last login, fetched at once: one round trip on PostgreSQL where
/// a read per user and field made a page cost a hundred (see `store::engine::read_ahead`).
pub fn with_view_reads<R>(state: &AppState, users: &[UserRecord], work: impl FnOnce() -> R) -> R {
    let keys = || {
        (users.iter())
            .flat_map(|u| {
                let key = owned(&u.account_id, &u.id);
                [
                    (Table::UseridLoginhistory, key.clone()),
                    (Table::SubjectidLastlogin, key),
                ]
            })
            .collect()
    };
    with_read_ahead(&*state.store.engine, keys, work)
}

/// PUT /v3/users/me
pub async fn update_me(
    state: &AppState,
    scope: &AccountScope,
    update: UserUpdate,
) -> ApiResult<UserRecord> {
    let user = me(scope)?;
    apply_update(state, scope, user, update).await
}

/// PUT /v3/users/{user_id}
///
/// Admins update anyone; any caller may update its own user exactly as through
/// `/v3/users/me`. Another user's email is never changed here (the spec: "Not allowed to
/// update other user's email address"); echoing it unchanged is fine.
pub async fn update(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    update: UserUpdate,
) -> ApiResult<UserRecord> {
    let is_self = !scope.tenant && scope.caller.user_id() == Some(user.id);
    if !is_self {
        scope.require_admin()?;
        if update.email.as_ref().is_some_and(|e| *e != user.email) {
            return Err(ApiError::Forbidden(
                "Only the user itself may change its email address.".into(),
            ));
        }
    }
    apply_update(state, scope, user, update).await
}

/// Applies an update to `user` after checking fields and rights; shared by the `me` and
/// by-id routes.
async fn apply_update(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    update: UserUpdate,
) -> ApiResult<UserRecord> {
    let status = update.validate()?;
    update.check_rights(status, user, scope.is_admin())?;
    // The document: `status` "Can be changed by the Aggregator Admin only"; an admin of an
    // account that is not an aggregator (a tenant's own admin) may only echo it.
    if status.is_some_and(|s| s != user.status) {
        super::scope::require_tenant_manager(&scope.caller).map_err(|_| {
            ApiError::Forbidden(
                "Only an administrator of an aggregator account may change a user's status.".into(),
            )
        })?;
    }
    // Setting oneself INACTIVE would lock the caller out of every key it owns at once (an
    // aggregator's only admin could not undo it): refused like leaving `Administrators`.
    let deactivates = status == Some(UserStatus::Inactive) && user.status != UserStatus::Inactive;
    if deactivates
        && scope.caller.account_id() == scope.id()
        && scope.caller.user_id() == Some(user.id)
    {
        return Err(ApiError::field("status", "You cannot deactivate yourself."));
    }
    let account = scope.id();
    // Everything that can be checked is checked before the first write, so that a request
    // that fails changes nothing.
    let group_change = match &update.groups {
        Some(groups) => {
            let mut wanted = validate::ids("groups", groups)?;
            wanted.dedup();
            super::groups::check_groups(state, &account, &wanted)?;
            let add: Vec<Id> = wanted
                .iter()
                .filter(|g| !user.groups.contains(g))
                .copied()
                .collect();
            let remove: Vec<Id> = user
                .groups
                .iter()
                .filter(|g| !wanted.contains(g))
                .copied()
                .collect();
            super::members::check_not_last_admin(state, scope, &remove)?;
            if remove.contains(&scope.admin_group()) {
                super::members::refuse_self_removal(scope, &[user.id], &[], "groups")?;
            }
            Some((add, remove))
        }
        None => None,
    };
    if let Some(profiles) = &update.login_profiles {
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        // The document: "The list cannot be empty." (`null` leaves the list as it is.)
        if ids.is_empty() {
            return Err(ApiError::field(
                "login_profiles",
                "The list cannot be empty.",
            ));
        }
        check_login_profiles(state, &account, &ids)?;
    }
    // Last of the checks: turning one's TOTP off spends the code it is given.
    let totp_off = super::signin::totp::check_update(
        state,
        scope,
        user,
        update.is_totp_enabled,
        update.otp.as_deref(),
    )
    .await?;
    // One transaction: the fields, the groups and (TOTP turned off) the forgotten secret land
    // together or not at all (a group deleted since the checks above refuses the whole update).
    let group_change = group_change.filter(|(a, r)| !a.is_empty() || !r.is_empty());
    let admins = Some(scope.admin_group().id());
    let updated = state
        .store
        .transact(|tx| {
            let mut updated = store_users::update_in(tx, &account, &user.id, &|u| {
                update.apply(status, u);
                Ok(())
            })?;
            if let Some((add, remove)) = &group_change {
                updated =
                    change_groups_in::<UserRecord>(tx, &account, &user.id, add, remove, admins)?;
            }
            if totp_off {
                delete_totp_in(tx, &account, &user.id)?;
            }
            let fields = audit::diff(Some(user), Some(&updated));
            record_in(tx, &audit::entry(scope, "update", "user", &user.id, fields))?;
            Ok(updated)
        })?
        .durable()
        .await?;
    Ok(updated)
}

/// GET /v3/users
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<UserRecord>> {
    Ok(state.store.users.list(account, page, filters)?)
}

/// DELETE /v3/users/{user_id}
///
/// Also removes the user from its groups, deletes the API keys it owns and its invitations.
pub async fn delete(state: &AppState, scope: &AccountScope, user: &UserRecord) -> ApiResult<()> {
    if !scope.tenant && scope.caller.user_id() == Some(user.id) {
        return Err(ApiError::BadRequest("A user cannot delete itself.".into()));
    }
    let account = scope.id();
    let admins = Some(scope.admin_group().id());
    // The keys it owns and its invitations are listed before the transaction (an engine may
    // not scan inside one); one made in between is deleted right after (none can be made
    // once the user is gone: a key checks its owner, and an invitation finds its user by
    // email inside its own transaction).
    let engine = &*state.store.engine;
    let owned_keys = apikeys::owned_by(engine, &account, &user.id)?;
    let invitations = store_invitations::ids_for_user(engine, &account, &user.id)?;
    state
        .store
        .transact(|tx| {
            store_users::delete_in(tx, &account, &user.id, &owned_keys, admins)?;
            store_invitations::delete_many_in(tx, &account, &invitations)?;
            let fields = audit::diff(Some(user), None);
            record_in(tx, &audit::entry(scope, "delete", "user", &user.id, fields))
        })?
        .durable()
        .await?;
    let last_login = &state.store.last_login;
    store_users::finish_delete(engine, last_login, &account, &user.id, owned_keys)?;
    let late = store_invitations::ids_for_user(engine, &account, &user.id)?;
    if !late.is_empty() {
        state
            .store
            .transact(|tx| store_invitations::delete_many_in(tx, &account, &late))?
            .durable()
            .await?;
    }
    crate::auth::session::forget_user(state, &account, &user.id).await?;
    Ok(())
}

/// POST /v3/accounts/{account_id}/users/{user_id}/validate-email
///
/// Asks the user, by email, to confirm its address.
pub async fn validate_email(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
) -> ApiResult<()> {
    let name = scope.name_for_email();
    let email = super::signin::recovery::verify_email_message(state, &name, user).await?;
    // The email's log entry and the audit entry commit together (the token is a digest of
    // its own, useless without the email).
    let outgoing = crate::email::compose(state, &scope.id(), &email).await;
    let written = state.store.transact(|tx| {
        crate::store::notifications::insert_in(tx, &outgoing.entry)?;
        let fields = vec![audit::change("email", None, Some(&user.email))];
        let entry = audit::entry(scope, "verify_email_sent", "user", &user.id, fields);
        record_in(tx, &entry)
    })?;
    crate::email::deliver(state, written, outgoing).await
}
