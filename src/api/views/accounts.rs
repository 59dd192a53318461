//! `AccountInfo`: an account, and on request its limits, policies and sub-accounts.

use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::service;
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use actix_web::HttpRequest;
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
        let children = service::accounts::children(state, &a.id)?;
        v.sub_accounts = Some(
            children
                .iter()
                .map(|c| view(state, c, &[]))
                .collect::<ApiResult<_>>()?,
        );
    }
    Ok(v)
}

fn parent_contact(state: &AppState, parent: &crate::ids::Id) -> ApiResult<ParentAccount> {
    let admin = service::accounts::admin_of(state, parent)?;
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
