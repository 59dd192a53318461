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

use super::filter::{self, Filter};
use super::scope::AccountScope;
use super::validate::{is_alias, is_email, nullable, Checks};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::provision::{plan, AdminPlan};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use crate::store::users::UserRecord;
use crate::store::{Page, PageRequest};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `password_policy` in an update. The SDK sends a blank policy (`minimum_length` null)
/// when it updates a fresh entity: that changes nothing.
#[derive(Deserialize, Clone, Default)]
pub struct PasswordPolicyUpdate {
    #[serde(default)]
    pub minimum_length: Option<i64>,
}

/// `AccountUpdateReq` (and the root variant's extra fields). Read-only fields of
/// `AccountInfo` that clients echo back are ignored; `null` clears a nullable text field.
#[derive(Deserialize, Default, Clone)]
pub struct AccountUpdate {
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub contact: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub address_line1: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub address_line2: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub country: Option<Option<String>>,
    #[serde(default)]
    pub end_market: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub contract_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub customer_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sales_contact: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub expiration_warning_threshold: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub idle_timeout: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub mfa_status: Option<Option<String>>,
    #[serde(default)]
    pub notification_emails: Option<Vec<String>>,
    #[serde(default)]
    pub password_policy: Option<PasswordPolicyUpdate>,
    #[serde(default)]
    pub password_recovery_expiration: Option<i64>,
}

impl AccountUpdate {
    /// Field rules of `AccountUpdateReq`. `root_fields` allows the fields only an
    /// aggregator may set on its tenants (`contract_number`, `customer_number`,
    /// `sales_contact`).
    pub fn validate(&self, root_fields: bool) -> ApiResult<()> {
        let mut c = Checks::new();
        let text = |v: &Option<Option<String>>| v.clone().flatten();
        for (name, value) in [
            ("display_name", &self.display_name),
            ("company", &self.company),
            ("contact", &self.contact),
            ("phone_number", &self.phone_number),
            ("address_line1", &self.address_line1),
            ("address_line2", &self.address_line2),
            ("city", &self.city),
            ("state", &self.state),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("contract_number", &self.contract_number),
            ("customer_number", &self.customer_number),
        ] {
            c.text(name, text(value).as_deref(), 100);
        }
        c.text("end_market", self.end_market.as_deref(), 100);
        c.email("email", text(&self.email).as_deref());
        if let Some(aliases) = &self.aliases {
            c.check(aliases.len() <= 10, "aliases", "At most 10 aliases.");
            c.check(
                aliases.iter().all(|a| is_alias(a)),
                "aliases",
                "Each alias must be 8-100 of letters, digits and -._.",
            );
        }
        c.custom_fields("custom_fields", self.custom_fields.as_ref());
        if let Some(emails) = &self.notification_emails {
            c.check(
                emails.iter().all(|e| is_email(e)),
                "notification_emails",
                "Each must be an email address.",
            );
        }
        c.range(
            "expiration_warning_threshold",
            self.expiration_warning_threshold.flatten(),
            1,
            180,
        );
        c.range("idle_timeout", self.idle_timeout.flatten(), 1, 120);
        c.range(
            "password_recovery_expiration",
            self.password_recovery_expiration,
            1,
            45,
        );
        c.one_of(
            "mfa_status",
            text(&self.mfa_status).as_deref(),
            &["enforced", "optional"],
        );
        if let Some(p) = &self.password_policy {
            c.range("password_policy.minimum_length", p.minimum_length, 8, 512);
        }
        if !root_fields {
            for (name, v) in [
                ("contract_number", &self.contract_number),
                ("customer_number", &self.customer_number),
                ("sales_contact", &self.sales_contact),
            ] {
                if matches!(v, Some(Some(_))) {
                    c.fail(
                        name,
                        "Only the parent account's administrators may set this field.",
                    );
                }
            }
        }
        c.email("sales_contact", text(&self.sales_contact).as_deref());
        c.finish()
    }

    pub fn apply(&self, a: &mut AccountRecord, root_fields: bool) {
        let set = |field: &mut Option<String>, v: &Option<Option<String>>| {
            if let Some(v) = v {
                *field = v.clone();
            }
        };
        set(&mut a.display_name, &self.display_name);
        set(&mut a.company, &self.company);
        set(&mut a.contact, &self.contact);
        set(&mut a.email, &self.email);
        set(&mut a.phone_number, &self.phone_number);
        set(&mut a.address_line1, &self.address_line1);
        set(&mut a.address_line2, &self.address_line2);
        set(&mut a.city, &self.city);
        set(&mut a.state, &self.state);
        set(&mut a.postal_code, &self.postal_code);
        set(&mut a.country, &self.country);
        set(&mut a.mfa_status, &self.mfa_status);
        if root_fields {
            set(&mut a.contract_number, &self.contract_number);
            set(&mut a.customer_number, &self.customer_number);
            set(&mut a.sales_contact, &self.sales_contact);
        }
        if let Some(v) = &self.end_market {
            a.end_market = v.clone();
        }
        if let Some(v) = &self.aliases {
            a.aliases = v.clone();
        }
        if let Some(v) = &self.custom_fields {
            a.custom_fields = v.clone();
        }
        if let Some(v) = &self.notification_emails {
            a.notification_emails = v.clone();
        }
        if let Some(v) = self.expiration_warning_threshold {
            a.expiration_warning_threshold = v.map(|n| n as u32);
        }
        if let Some(v) = self.idle_timeout {
            a.idle_timeout = v.map(|n| n as u32);
        }
        if let Some(n) = self.password_policy.as_ref().and_then(|p| p.minimum_length) {
            a.password_minimum_length = n as u32;
        }
        if let Some(v) = self.password_recovery_expiration {
            a.password_recovery_expiration = v as u32;
        }
    }
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
    Ok(state
        .store
        .accounts
        .update(&scope.id(), &|a| {
            own.apply(a, root);
            Ok(())
        })?
        .durable()
        .await?)
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
    Ok(state
        .store
        .accounts
        .update(&scope.id(), &|a| {
            update.apply(a, true);
            Ok(())
        })?
        .durable()
        .await?)
}

/// `AccountCreationReq`. Unknown fields are ignored; `null` means "not given".
#[derive(Deserialize, Default)]
pub struct AccountCreate {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub end_market: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub contract_number: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub admin_email: Option<String>,
    #[serde(default)]
    pub admin_name: Option<String>,
    #[serde(default)]
    pub admin_full_name: Option<String>,
    #[serde(default)]
    pub admin_password: Option<String>,
}

/// The password policy a new tenant starts with (see `provision::plan`).
const MIN_PASSWORD: usize = 8;

impl AccountCreate {
    pub fn validate(&self, action: &str) -> ApiResult<()> {
        let mut c = Checks::new();
        c.one_of("action", Some(action), &["create", "enroll"]);
        c.required_text("end_market", self.end_market.as_deref(), 100, "Required.");
        for (name, value) in [
            ("display_name", &self.display_name),
            ("company", &self.company),
            ("contact", &self.contact),
            ("phone_number", &self.phone_number),
            ("address_line1", &self.address_line1),
            ("address_line2", &self.address_line2),
            ("city", &self.city),
            ("state", &self.state),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("contract_number", &self.contract_number),
            ("customer_number", &self.customer_number),
            ("admin_full_name", &self.admin_full_name),
        ] {
            c.text(name, value.as_deref(), 100);
        }
        c.email("email", self.email.as_deref());
        c.email("admin_email", self.admin_email.as_deref());
        if self.admin_email.is_none() && self.email.is_none() {
            c.fail(
                "admin_email",
                "Required: the email address of the account's admin user (or the account's email).",
            );
        }
        c.username("admin_name", self.admin_name.as_deref());
        if let Some(p) = &self.admin_password {
            c.check(
                p.chars().count() >= MIN_PASSWORD,
                "admin_password",
                format!("Must be at least {MIN_PASSWORD} characters."),
            );
            c.max_len("admin_password", Some(p), 512);
        }
        if let Some(aliases) = &self.aliases {
            c.check(aliases.len() <= 10, "aliases", "At most 10 aliases.");
            c.check(
                aliases.iter().all(|a| is_alias(a)),
                "aliases",
                "Each alias must be 8-100 of letters, digits and -._.",
            );
            let mut sorted = aliases.clone();
            sorted.sort();
            sorted.dedup();
            c.check(
                sorted.len() == aliases.len(),
                "aliases",
                "Aliases must not repeat.",
            );
        }
        c.finish()
    }
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
    let created = state
        .store
        .accounts
        .provision(provisioned.new, false)?
        .durable()
        .await?;
    Ok(CreatedTenant {
        account: created,
        admin,
        admin_key: provisioned.admin_key,
        generated_password: provisioned.generated_password,
    })
}

fn filter_values(a: &AccountRecord, field: &str) -> Vec<String> {
    let text = |v: &Option<String>| v.iter().cloned().collect();
    match field {
        "status" => vec![a.status.to_string()],
        "tier" => vec![a.tier.clone()],
        "parent" => a.parent_id.iter().map(|p| p.hex()).collect(),
        "end_market" => vec![a.end_market.clone()],
        "country" => text(&a.country),
        _ => Vec::new(),
    }
}

/// GET /v3/accounts: the caller's sub-tenants.
pub fn list_tenants(
    state: &AppState,
    caller: &Caller,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<AccountRecord>> {
    let keep = |a: &AccountRecord| filter::accepts(filters, |f| filter_values(a, f));
    Ok(state.store.accounts.children(
        &caller.account.id,
        page,
        (!filters.is_empty()).then_some(&keep as &dyn Fn(&AccountRecord) -> bool),
    )?)
}
