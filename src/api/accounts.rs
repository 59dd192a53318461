//! Accounts: the caller's own profile (`/v3/accounts/me`).

use super::body::{nullable, Json};
use super::scope::AccountScope;
use super::validate::{is_alias, is_email, Checks};
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `AccountInfo` as the spec names its fields. Fields marked x-nullable are sent as null
/// when unset; the others are left out.
#[derive(Serialize, Default)]
pub struct AccountView {
    pub object: &'static str,
    pub id: String,
    pub status: String,
    pub tier: String,
    pub end_market: String,
    pub etag: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgraded_at: Option<String>,
    pub parent_id: Option<String>,
    pub parent_account: Option<ParentAccount>,
    pub display_name: Option<String>,
    pub company: Option<String>,
    pub contact: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub aliases: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub contract_number: Option<String>,
    pub customer_number: Option<String>,
    pub sales_contact: Option<String>,
    pub expiration: Option<String>,
    pub expiration_warning_threshold: Option<u32>,
    pub idle_timeout: Option<u32>,
    pub mfa_status: Option<String>,
    pub notification_emails: Vec<String>,
    pub password_policy: PasswordPolicy,
    pub password_recovery_expiration: u32,
    pub reason: Option<String>,
    pub reference_note: Option<String>,
    pub template_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<FeaturePolicy>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_accounts: Option<Vec<AccountView>>,
    // Only in the response that creates an account (tenant accounts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Default)]
pub struct PasswordPolicy {
    pub minimum_length: i64,
}

/// `password_policy` in an update. The SDK sends a blank policy (`minimum_length` null)
/// when it updates a fresh entity: that changes nothing.
#[derive(Deserialize, Clone, Default)]
pub struct PasswordPolicyUpdate {
    #[serde(default)]
    pub minimum_length: Option<i64>,
}

#[derive(Serialize)]
pub struct ParentAccount {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct FeaturePolicy {
    pub action: String,
    pub allow: bool,
    pub feature: String,
    pub inherited: bool,
    pub resource: String,
}

/// Renders an account; `include` may ask for `limits`, `policies` and `sub_accounts`.
pub fn view(state: &AppState, a: &AccountRecord, include: &[&str]) -> ApiResult<AccountView> {
    let parent_account = match a.parent_id {
        Some(pid) => Some(parent_contact(state, &pid)?),
        None => None,
    };
    let mut v = AccountView {
        object: "account",
        id: a.id.hex(),
        status: a.status.to_string(),
        tier: a.tier.clone(),
        end_market: a.end_market.clone(),
        etag: a.etag.to_string(),
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
        upgraded_at: a.upgraded_at.map(rfc3339),
        parent_id: a.parent_id.map(|p| p.hex()),
        parent_account,
        display_name: a.display_name.clone(),
        company: a.company.clone(),
        contact: a.contact.clone(),
        email: a.email.clone(),
        phone_number: a.phone_number.clone(),
        address_line1: a.address_line1.clone(),
        address_line2: a.address_line2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        aliases: a.aliases.clone(),
        custom_fields: a.custom_fields.clone(),
        contract_number: a.contract_number.clone(),
        customer_number: a.customer_number.clone(),
        sales_contact: a.sales_contact.clone(),
        expiration: a.expiration.map(rfc3339),
        expiration_warning_threshold: a.expiration_warning_threshold,
        idle_timeout: a.idle_timeout,
        mfa_status: a.mfa_status.clone(),
        notification_emails: a.notification_emails.clone(),
        password_policy: PasswordPolicy {
            minimum_length: a.password_minimum_length as i64,
        },
        password_recovery_expiration: a.password_recovery_expiration,
        reason: a.reason.clone(),
        reference_note: a.reference_note.clone(),
        template_id: a.template_id.clone(),
        ..AccountView::default()
    };
    if include.contains(&"limits") {
        v.limits = Some(limits(state, a));
    }
    if include.contains(&"policies") {
        v.policies = Some(policies(a));
    }
    if include.contains(&"sub_accounts") && a.is_aggregator {
        let children =
            state
                .store
                .accounts
                .children(&a.id, &crate::store::PageRequest::all(), &[])?;
        v.sub_accounts = Some(
            children
                .items
                .iter()
                .map(|c| view(state, c, &[]))
                .collect::<ApiResult<_>>()?,
        );
    }
    Ok(v)
}

fn parent_contact(state: &AppState, parent: &crate::ids::Id) -> ApiResult<ParentAccount> {
    let admin = match state.store.accounts.get(parent)?.and_then(|p| p.admin_user) {
        Some(uid) => state.store.users.get(parent, &uid)?,
        None => None,
    };
    Ok(ParentAccount {
        id: parent.hex(),
        admin_name: admin
            .as_ref()
            .and_then(|u| u.full_name.clone().or(u.username.clone())),
        admin_email: admin.map(|u| u.email),
    })
}

fn limits(state: &AppState, a: &AccountRecord) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        "developer_certificates".to_string(),
        state
            .config
            .limits
            .developer_certificates_per_account
            .to_string(),
    );
    m.insert(
        "sub_accounts".to_string(),
        if a.is_aggregator { "-1" } else { "0" }.to_string(),
    );
    m
}

fn policies(a: &AccountRecord) -> Vec<FeaturePolicy> {
    let mut features = vec!["account-management", "device-security", "branding"];
    if a.is_aggregator {
        features.push("sub-accounts");
    }
    features
        .into_iter()
        .map(|f| FeaturePolicy {
            action: String::new(),
            allow: true,
            feature: f.to_string(),
            inherited: a.parent_id.is_some(),
            resource: String::new(),
        })
        .collect()
}

/// The `include` query parameter as a list.
pub fn include_param(req: &HttpRequest) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "include")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
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

/// GET /v3/accounts/me
///
/// `include=sub_accounts` is for admins: the spec says "Not available for developer users",
/// and the sub-accounts' contact details are not every user's to read. For anyone else the
/// include is ignored (no `sub_accounts` field), like an include that does not apply.
pub async fn get_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let include = include_param(&req);
    let include: Vec<&str> = include
        .iter()
        .map(String::as_str)
        .filter(|i| *i != "sub_accounts" || scope.is_admin())
        .collect();
    Ok(HttpResponse::Ok().json(view(&state, &scope.account, &include)?))
}

/// PUT /v3/accounts/me
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<AccountUpdate>,
) -> ApiResult<HttpResponse> {
    scope.require_admin()?;
    let update = body.0;
    // Echoed read models carry the current values of parent-only fields: only a change is
    // refused.
    let mut own = update.clone();
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
    let updated = state
        .store
        .accounts
        .update(&scope.id(), &|a| {
            own.apply(a, root);
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated, &[])?))
}
