//! The request bodies of the account routes, and their field rules.

use crate::error::ApiResult;
use crate::service::validate::{is_alias, is_email, nullable, Checks};
use crate::store::accounts::AccountRecord;
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
