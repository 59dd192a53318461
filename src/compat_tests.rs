//! Records written before the typed ids and status enums decode into today's records, and
//! today's records encode to the very same bytes. The `Old*` structs are frozen copies of
//! the layouts those releases wrote (plain `Id`s, statuses as `String`): never edit them.

use crate::ids::{AccountId, Id, UserId};
use crate::status::{
    AccountStatus, ApiKeyStatus, CertificateStatus, IdentityProviderStatus, Named, UserStatus,
};
use crate::store::accounts::AccountRecord;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::certificates::TrustedCertRecord;
use crate::store::identity_providers::{IdentityProviderRecord, Saml2Record};
use crate::store::users::UserRecord;
use crate::store::{decode, encode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct OldUserRecord {
    id: Id,
    account_id: Id,
    email: String,
    username: Option<String>,
    full_name: Option<String>,
    address: Option<String>,
    phone_number: Option<String>,
    status: String,
    password_hash: Option<Vec<u8>>,
    email_verified: bool,
    is_gtc_accepted: bool,
    is_marketing_accepted: bool,
    is_totp_enabled: bool,
    login_profiles: Vec<Id>,
    custom_fields: BTreeMap<String, String>,
    groups: Vec<Id>,
    created_at: i64,
    updated_at: i64,
    password_changed_time: Option<i64>,
    etag: u64,
}

#[derive(Serialize)]
struct OldApiKeyRecord {
    id: Id,
    account_id: Id,
    name: String,
    owner: Option<Id>,
    status: String,
    key_digest: Vec<u8>,
    groups: Vec<Id>,
    created_at: i64,
    updated_at: i64,
    etag: u64,
}

#[derive(Serialize)]
struct OldTrustedCertRecord {
    id: Id,
    account_id: Id,
    name: String,
    description: Option<String>,
    service: String,
    status: String,
    enrollment_mode: bool,
    device_execution_mode: i32,
    owner_id: Option<Id>,
    certificate: String,
    subject: String,
    issuer: String,
    fingerprint: String,
    not_before: i64,
    not_after: i64,
    created_at: i64,
    updated_at: i64,
    etag: u64,
}

#[derive(Serialize)]
struct OldIdentityProviderRecord {
    id: Id,
    account_id: Id,
    name: String,
    description: Option<String>,
    kind: String,
    status: String,
    saml2: Saml2Record,
    created_at: i64,
    updated_at: i64,
    etag: u64,
}

#[derive(Serialize)]
struct OldAccountRecord {
    id: Id,
    parent_id: Option<Id>,
    status: String,
    tier: String,
    is_aggregator: bool,
    display_name: Option<String>,
    company: Option<String>,
    contact: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    end_market: String,
    aliases: Vec<String>,
    custom_fields: BTreeMap<String, String>,
    contract_number: Option<String>,
    customer_number: Option<String>,
    sales_contact: Option<String>,
    expiration: Option<i64>,
    expiration_warning_threshold: Option<u32>,
    idle_timeout: Option<u32>,
    mfa_status: Option<String>,
    notification_emails: Vec<String>,
    password_minimum_length: u32,
    password_recovery_expiration: u32,
    reason: Option<String>,
    reference_note: Option<String>,
    template_id: Option<String>,
    admin_group: Id,
    developers_group: Id,
    admin_user: Option<Id>,
    created_at: i64,
    updated_at: i64,
    upgraded_at: Option<i64>,
    etag: u64,
}

/// Decodes what `old` encodes to as `T`, checks it with `same`, and checks that `T`
/// encodes back to the old bytes.
fn decodes_unchanged<O: Serialize, T: Serialize + DeserializeOwned>(old: &O, same: impl Fn(&T)) {
    let bytes = encode(old);
    let new: T = decode(&bytes).expect("an old record decodes");
    same(&new);
    assert_eq!(encode(&new), bytes, "re-encoding changes the stored bytes");
}

#[test]
fn users_written_with_string_statuses_decode_unchanged() {
    for &status in UserStatus::ALL {
        let old = OldUserRecord {
            id: Id::new(),
            account_id: Id::new(),
            email: "a@example.com".into(),
            username: Some("someone".into()),
            full_name: None,
            address: Some("Street 1".into()),
            phone_number: None,
            status: status.as_str().into(),
            password_hash: Some(vec![1, 2, 3]),
            email_verified: true,
            is_gtc_accepted: false,
            is_marketing_accepted: true,
            is_totp_enabled: false,
            login_profiles: vec![Id::new()],
            custom_fields: BTreeMap::from([("k".into(), "v".into())]),
            groups: vec![Id::new(), Id::new()],
            created_at: 1,
            updated_at: 2,
            password_changed_time: Some(3),
            etag: 4,
        };
        decodes_unchanged(&old, |new: &UserRecord| {
            assert_eq!(new.status, status);
            assert_eq!(new.id.id(), old.id);
            assert_eq!(new.groups, old.groups);
            assert_eq!(new.login_profiles, old.login_profiles);
            assert_eq!(new.etag, 4);
        });
    }
    // A status no release wrote is an unreadable record (a store error, not a panic).
    let stray = OldUserRecord {
        status: "SLEEPING".into(),
        ..old_user()
    };
    assert!(decode::<UserRecord>(&encode(&stray)).is_err());
}

fn old_user() -> OldUserRecord {
    OldUserRecord {
        id: Id::new(),
        account_id: Id::new(),
        email: String::new(),
        username: None,
        full_name: None,
        address: None,
        phone_number: None,
        status: "ACTIVE".into(),
        password_hash: None,
        email_verified: false,
        is_gtc_accepted: false,
        is_marketing_accepted: false,
        is_totp_enabled: false,
        login_profiles: Vec::new(),
        custom_fields: BTreeMap::new(),
        groups: Vec::new(),
        created_at: 0,
        updated_at: 0,
        password_changed_time: None,
        etag: 1,
    }
}

#[test]
fn api_keys_written_with_string_statuses_decode_unchanged() {
    for &status in ApiKeyStatus::ALL {
        let old = OldApiKeyRecord {
            id: Id::new(),
            account_id: Id::new(),
            name: "key".into(),
            owner: Some(Id::new()),
            status: status.as_str().into(),
            key_digest: vec![7; 32],
            groups: vec![Id::new()],
            created_at: 1,
            updated_at: 2,
            etag: 3,
        };
        decodes_unchanged(&old, |new: &ApiKeyRecord| {
            assert_eq!(new.status, status);
            assert_eq!(new.owner.map(UserId::id), old.owner);
            assert_eq!(new.groups, old.groups);
        });
    }
}

#[test]
fn certificates_written_with_string_statuses_decode_unchanged() {
    for &status in CertificateStatus::ALL {
        let old = OldTrustedCertRecord {
            id: Id::new(),
            account_id: Id::new(),
            name: "cert".into(),
            description: Some("d".into()),
            service: "lwm2m".into(),
            status: status.as_str().into(),
            enrollment_mode: true,
            device_execution_mode: 1,
            owner_id: Some(Id::new()),
            certificate: "PEM".into(),
            subject: "CN=s".into(),
            issuer: "CN=i".into(),
            fingerprint: "ab".into(),
            not_before: 5,
            not_after: 6,
            created_at: 1,
            updated_at: 2,
            etag: 3,
        };
        decodes_unchanged(&old, |new: &TrustedCertRecord| {
            assert_eq!(new.status, status);
            assert_eq!(new.owner_id.map(UserId::id), old.owner_id);
            assert_eq!(new.not_after, 6);
        });
    }
}

#[test]
fn identity_providers_written_with_string_statuses_decode_unchanged() {
    for &status in IdentityProviderStatus::ALL {
        let old = OldIdentityProviderRecord {
            id: Id::new(),
            account_id: Id::new(),
            name: "idp".into(),
            description: None,
            kind: "SAML2".into(),
            status: status.as_str().into(),
            saml2: Saml2Record {
                sp_entity_id: "sp".into(),
                ..Saml2Record::default()
            },
            created_at: 1,
            updated_at: 2,
            etag: 3,
        };
        decodes_unchanged(&old, |new: &IdentityProviderRecord| {
            assert_eq!(new.status, status);
            assert_eq!(new.saml2.sp_entity_id, "sp");
        });
    }
}

#[test]
fn accounts_written_with_string_statuses_decode_unchanged() {
    for &status in AccountStatus::ALL {
        let old = OldAccountRecord {
            id: Id::new(),
            parent_id: Some(Id::new()),
            status: status.as_str().into(),
            tier: "1".into(),
            is_aggregator: false,
            display_name: Some("Tenant".into()),
            company: None,
            contact: None,
            email: Some("t@example.com".into()),
            phone_number: None,
            address_line1: None,
            address_line2: None,
            city: None,
            state: None,
            postal_code: None,
            country: Some("FI".into()),
            end_market: "IT".into(),
            aliases: vec!["alias-one".into()],
            custom_fields: BTreeMap::new(),
            contract_number: None,
            customer_number: None,
            sales_contact: None,
            expiration: None,
            expiration_warning_threshold: Some(7),
            idle_timeout: None,
            mfa_status: None,
            notification_emails: Vec::new(),
            password_minimum_length: 8,
            password_recovery_expiration: 30,
            reason: None,
            reference_note: None,
            template_id: None,
            admin_group: Id::new(),
            developers_group: Id::new(),
            admin_user: Some(Id::new()),
            created_at: 1,
            updated_at: 2,
            upgraded_at: None,
            etag: 3,
        };
        decodes_unchanged(&old, |new: &AccountRecord| {
            assert_eq!(new.status, status);
            assert_eq!(new.parent_id.map(AccountId::id), old.parent_id);
            assert_eq!(new.admin_group.id(), old.admin_group);
            assert_eq!(new.admin_user.map(UserId::id), old.admin_user);
        });
    }
}
