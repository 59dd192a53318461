//! Accounts: the caller's own (`/v3/accounts/me`) and an aggregator's sub-tenants
//! (`/v3/accounts`, `/v3/accounts/{account_id}`).
//!
//! Creating a tenant makes it complete at once (`provision::plan`): its `Administrators` and
//! `Developers` groups, its admin user and an admin API key, shown in full in the 201 only.
//!
//! "An existing user of the same email is linked, not duplicated" (spec, `action`): users
//! belong to one account here, so linking means the new tenant's admin is a copy of the
//! caller's own account's user with `admin_email` (the same person): it takes that user's
//! username, full name, contact details, status and password hash, so the person signs in to
//! the new tenant with the credentials they already have. The request's `admin_name`,
//! `admin_full_name` and `admin_password` then do not apply (no password is generated or
//! returned), exactly as "its status is not modified" says for an existing user.

use super::audit;
use super::filter::Filter;
use super::scope::AccountScope;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::ids::Id;
use crate::provision::{plan, AdminPlan};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts as store_accounts;
use crate::store::accounts::AccountRecord;
use crate::store::users::UserRecord;
use crate::store::{Page, PageRequest};

pub use input::{AccountCreate, AccountUpdate, PasswordPolicyUpdate};

mod input;

/// The admin user of account `id`, if it has one (a tenant's view shows its parent's).
pub fn admin_of(state: &AppState, id: &Id) -> ApiResult<Option<UserRecord>> {
    Ok(
        match state.store.accounts.get(id)?.and_then(|a| a.admin_user) {
            Some(uid) => state.store.users.get(id, &uid)?,
            None => None,
        },
    )
}

/// Every sub-tenant of account `id`, in creation order.
pub fn children(state: &AppState, id: &Id) -> ApiResult<Vec<AccountRecord>> {
    Ok(state
        .store
        .accounts
        .children(id, &PageRequest::all(), &[])?
        .items)
}

/// PUT /v3/accounts/me, and PUT /v3/accounts/{account_id} on the caller's own id.
pub async fn update_me(
    state: &AppState,
    scope: &AccountScope,
    update: AccountUpdate,
) -> ApiResult<AccountRecord> {
    scope.require_admin()?;
    // Echoed read models carry the current values of parent-only fields: only a change is
    // refused.
    let mut own = update;
    for (field, current) in [
        (&mut own.contract_number, &scope.account.contract_number),
        (&mut own.customer_number, &scope.account.customer_number),
        (&mut own.sales_contact, &scope.account.sales_contact),
    ] {
        if field.as_ref().is_some_and(|v| v == current) {
            *field = None;
        }
    }
    own.validate(scope.account.parent_id.is_none())?;
    let root = scope.account.parent_id.is_none();
    update_recorded(state, scope, &|a| {
        own.apply(a, root);
        Ok(())
    })
    .await
}

/// PUT /v3/accounts/{account_id}
///
/// The parent may also set `contract_number`, `customer_number` and `sales_contact`
/// (`AccountUpdateRootReq`). On the caller's own id this is `PUT /v3/accounts/me`.
pub async fn update_tenant(
    state: &AppState,
    scope: &AccountScope,
    update: AccountUpdate,
) -> ApiResult<AccountRecord> {
    if scope.id() == scope.caller.account_id() {
        return update_me(state, scope, update).await;
    }
    update.validate(true)?;
    update_recorded(state, scope, &|a| {
        update.apply(a, true);
        Ok(())
    })
    .await
}

/// Applies `change` to the scope's account with its audit entry (in that account's log),
/// in one transaction.
async fn update_recorded(
    state: &AppState,
    scope: &AccountScope,
    change: &dyn Fn(&mut AccountRecord) -> crate::store::StoreResult<()>,
) -> ApiResult<AccountRecord> {
    let id = scope.id();
    Ok(state
        .store
        .transact(|tx| {
            let after = store_accounts::update_in(tx, &id, change)?;
            let target = ("account", &*id);
            audit::record(
                tx,
                scope,
                "update",
                target,
                Some(&*scope.account),
                Some(&after),
            )?;
            Ok(after)
        })?
        .durable()
        .await?)
}

/// A created tenant, with what only the 201 shows: its admin user and the admin key.
pub struct CreatedTenant {
    pub account: AccountRecord,
    pub admin: UserRecord,
    pub admin_key: String,
    pub generated_password: Option<String>,
}

/// POST /v3/accounts (`action` is `create` or `enroll`), for a caller that
/// `scope::require_tenant_manager` admitted.
pub async fn create_tenant(
    state: &AppState,
    caller: &Caller,
    request: &audit::RequestInfo,
    action: &str,
    req: AccountCreate,
) -> ApiResult<CreatedTenant> {
    req.validate(action)?;
    let admin_email = req
        .admin_email
        .clone()
        .or(req.email.clone())
        .unwrap_or_default();
    let existing = state
        .store
        .users
        .by_email(&caller.account.id, &admin_email)?;

    let account = AccountRecord {
        display_name: req.display_name,
        company: req.company,
        contact: req.contact,
        email: req.email,
        phone_number: req.phone_number,
        address_line1: req.address_line1,
        address_line2: req.address_line2,
        city: req.city,
        state: req.state,
        postal_code: req.postal_code,
        country: req.country,
        end_market: req.end_market.unwrap_or_default(),
        aliases: req.aliases.unwrap_or_default(),
        contract_number: req.contract_number,
        customer_number: req.customer_number,
        ..AccountRecord::new(Some(caller.account.id))
    };
    let status = match (action, &req.admin_password) {
        ("enroll", _) => UserStatus::Enrolling,
        (_, Some(_)) => UserStatus::Active,
        (_, None) => UserStatus::Reset,
    };
    // A linked existing user keeps its own password: the chosen one is not even hashed.
    let chosen_hash = match (req.admin_password, &existing) {
        (Some(p), None) => Some(crate::auth::password::hash_chosen(p).await?),
        _ => None,
    };
    let mut provisioned = plan(
        account,
        AdminPlan {
            email: admin_email,
            username: req.admin_name,
            full_name: req.admin_full_name,
            chosen_hash,
            status,
        },
    );
    if let Some(user) = existing {
        let admin = &mut provisioned.new.admin;
        admin.email = user.email;
        admin.username = user.username;
        admin.full_name = user.full_name;
        admin.address = user.address;
        admin.phone_number = user.phone_number;
        admin.status = user.status;
        admin.password_hash = user.password_hash;
        admin.password_changed_time = user.password_changed_time;
        admin.email_verified = user.email_verified;
        admin.is_gtc_accepted = user.is_gtc_accepted;
        admin.is_marketing_accepted = user.is_marketing_accepted;
        provisioned.generated_password = None;
    }
    let admin = provisioned.new.admin.clone();
    let new = provisioned.new;
    // Recorded in the new tenant's own log, with the aggregator's admin as the actor.
    let created = state
        .store
        .transact(|tx| {
            store_accounts::provision_in(tx, &new, false)?;
            let fields = audit::diff(None, Some(&new.account));
            let (id, target) = (new.account.id, ("account", &*new.account.id));
            let entry = audit::entry_by(caller, request, id, "create", target, fields);
            crate::store::audit::record_in(tx, &entry)?;
            let fields = audit::diff(None, Some(&new.admin));
            let target = ("user", &*new.admin.id);
            let entry = audit::entry_by(caller, request, id, "create", target, fields);
            crate::store::audit::record_in(tx, &entry)?;
            Ok(new.account.clone())
        })?
        .durable()
        .await?;
    Ok(CreatedTenant {
        account: created,
        admin,
        admin_key: provisioned.admin_key,
        generated_password: provisioned.generated_password,
    })
}

/// GET /v3/accounts: the caller's sub-tenants.
pub fn list_tenants(
    state: &AppState,
    caller: &Caller,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<AccountRecord>> {
    Ok(state
        .store
        .accounts
        .children(&caller.account.id, page, filters)?)
}
