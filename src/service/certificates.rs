//! Trusted certificates, developer certificates and server credentials.
//!
//! Permissions (decided): any caller of the account may list and read trusted certificates
//! (they hold no secrets); uploading, updating and deleting them is for admins, because a
//! trusted certificate decides which devices the bootstrap server lets in. One exception: the
//! owner of a *developer* certificate may delete it, since any caller may create one and the
//! SDK deletes developer certificates through the trusted-certificate route.
//!
//! Uploads are parsed, never trusted as text (`pki::parse_trusted_chain`): everything shown
//! besides name, description, service, status and enrollment mode comes from the decoded
//! certificate.
//!
//! A developer certificate is a trusted certificate of the account (same id,
//! `device_execution_mode: 1`, service `bootstrap`) whose device identity iamd generated: a
//! new endpoint name, a fresh P-256 key and a self-signed certificate. Because the bootstrap
//! server trusts the account's trusted certificates, a device flashed with the returned
//! `security_file_content` is accepted. The device key is kept so that `GET` can return the
//! same credentials file again; it is the device's key, never a server CA key. Any caller of
//! the account may create and read developer certificates (that is what the `Developers`
//! group is for); the device's private key is shown only to the certificate's owner and to
//! admins (`may_see_key`).

use super::audit;
use super::filter::{Filter, Op};
use super::scope::AccountScope;
use super::validate::{nullable, Checks};
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, CertificateId, Id};
use crate::pki::{parse_trusted_chain, CertError, ParsedCert};
use crate::state::AppState;
use crate::status::CertificateStatus;
use crate::store::certificates::{self as store_certs, TrustedCertRecord};
use crate::store::{Page, PageRequest};
use serde::Deserialize;

pub const SERVICES: &[&str] = &["lwm2m", "bootstrap"];
/// `device_execution_mode` of developer certificates.
pub const DEVELOPER_MODE: i32 = 1;

pub fn is_valid(c: &TrustedCertRecord, now: i64) -> bool {
    c.not_before <= now && now < c.not_after
}

fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Copies what iamd derived from the certificate into the record.
pub fn apply_parsed(c: &mut TrustedCertRecord, parsed: &ParsedCert) {
    c.certificate = parsed.pem.clone();
    c.subject = parsed.subject.clone();
    c.issuer = parsed.issuer.clone();
    c.fingerprint = parsed.fingerprint_sha256_hex.clone();
    c.not_before = millis(parsed.not_before);
    c.not_after = millis(parsed.not_after);
}

/// A new certificate of `account` holding `parsed`, made now; the caller sets what the
/// request chose (name, service, ...).
pub fn new_record(account: AccountId, parsed: &ParsedCert) -> TrustedCertRecord {
    let now = crate::clock::now_millis();
    TrustedCertRecord {
        id: CertificateId::new(),
        account_id: account,
        name: String::new(),
        description: None,
        service: String::new(),
        status: CertificateStatus::Active,
        enrollment_mode: false,
        device_execution_mode: 0,
        owner_id: None,
        certificate: parsed.pem.clone(),
        subject: parsed.subject.clone(),
        issuer: parsed.issuer.clone(),
        fingerprint: parsed.fingerprint_sha256_hex.clone(),
        not_before: millis(parsed.not_before),
        not_after: millis(parsed.not_after),
        created_at: now,
        updated_at: now,
        etag: 1,
    }
}

fn parse_pem(pem: &str) -> Result<ParsedCert, CertError> {
    parse_trusted_chain(pem, time::OffsetDateTime::now_utc())
}

/// PEM text with whitespace and JSON-style escaped line ends removed, so a client echoing
/// the stored certificate in another layout is recognised as "unchanged".
fn pem_key(pem: &str) -> String {
    pem.replace("\\r", "")
        .replace("\\n", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// `TrustedCertificateReq`.
#[derive(Deserialize)]
pub struct TrustedCertCreate {
    #[serde(default)]
    pub certificate: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub enrollment_mode: Option<bool>,
}

/// POST /v3/trusted-certificates
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    req: TrustedCertCreate,
) -> ApiResult<TrustedCertRecord> {
    let mut c = Checks::new();
    c.required_text("name", req.name.as_deref(), 100, "Required.");
    match req.service.as_deref() {
        None => c.fail("service", "Required."),
        service => c.one_of("service", service, SERVICES),
    }
    c.max_len("description", req.description.as_deref(), 500);
    let status = c.choice("status", req.status.as_deref());
    let parsed = match req.certificate.as_deref() {
        None => {
            c.fail(CertError::FIELD, "Required.");
            None
        }
        Some(pem) => match parse_pem(pem) {
            Ok(p) => Some(p),
            Err(e) => {
                c.fail(CertError::FIELD, e.to_string());
                None
            }
        },
    };
    c.finish()?;
    let parsed = parsed.ok_or_else(|| ApiError::Internal("certificate vanished".into()))?;
    let record = TrustedCertRecord {
        name: req.name.unwrap_or_default(),
        description: req.description,
        service: req.service.unwrap_or_default(),
        status: status.unwrap_or(CertificateStatus::Active),
        enrollment_mode: req.enrollment_mode.unwrap_or(false),
        // On tenant routes the caller is a user of the parent account, not of this one.
        owner_id: if scope.tenant {
            None
        } else {
            scope.caller.user_id()
        },
        ..new_record(scope.id(), &parsed)
    };
    let target = ("trusted-certificate", &*record.id);
    state
        .store
        .transact(|tx| {
            store_certs::create_in(tx, &record, None)?;
            audit::record(tx, scope, "create", target, None, Some(&record))
        })?
        .durable()
        .await?;
    Ok(record)
}

/// `expire__eq` in days, checked: typed filter values are checked before scanning, so a
/// wrong type is a 400 naming the parameter, not an empty list.
fn check_filter_types(filters: &[Filter]) -> ApiResult<Option<i64>> {
    let mut expire_days = None;
    for f in filters {
        let value = &f.values[0];
        let op = match f.op {
            Op::Neq => "neq",
            Op::Like => "like",
            _ => "eq",
        };
        let name = format!("{}__{op}", f.field);
        match f.field {
            "device_execution_mode" if value.parse::<i32>().is_err() => {
                return Err(ApiError::field(&name, "Must be an integer."));
            }
            "enrollment_mode" | "valid" if value != "true" && value != "false" => {
                return Err(ApiError::field(&name, "Must be true or false."));
            }
            "expire" => match value.parse::<i64>() {
                Ok(days) if (0..=36_500).contains(&days) => expire_days = Some(days),
                _ => {
                    return Err(ApiError::field(
                        &name,
                        "Must be a number of days between 0 and 36500.",
                    ))
                }
            },
            _ => {}
        }
    }
    Ok(expire_days)
}

/// GET /v3/trusted-certificates
///
/// `expire__eq=N` keeps the certificates that are still valid and expire within N days.
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
    filters: &[Filter],
) -> ApiResult<Page<TrustedCertRecord>> {
    check_filter_types(filters)?;
    Ok(state.store.certificates.list(account, page, filters)?)
}

/// `TrustedCertificateUpdateReq`, also accepting the whole `TrustedCertificateResp` that
/// clients echo back (read-only fields are ignored; null means "unchanged" except for the
/// nullable `description`, where it clears it).
#[derive(Deserialize)]
pub struct TrustedCertUpdate {
    #[serde(default)]
    pub certificate: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub enrollment_mode: Option<bool>,
}

/// GET /v3/trusted-certificates/{cert_id}: the certificate of `account` with `id`.
pub fn get(state: &AppState, account: &Id, id: &Id) -> ApiResult<Option<TrustedCertRecord>> {
    Ok(state.store.certificates.get(account, id)?)
}

/// PUT /v3/trusted-certificates/{cert_id}
pub async fn update(
    state: &AppState,
    scope: &AccountScope,
    current: &TrustedCertRecord,
    req: TrustedCertUpdate,
) -> ApiResult<TrustedCertRecord> {
    let mut c = Checks::new();
    if let Some(name) = &req.name {
        c.not_blank("name", name);
        c.text("name", Some(name), 100);
    }
    c.one_of("service", req.service.as_deref(), SERVICES);
    let status = c.choice("status", req.status.as_deref());
    c.max_len(
        "description",
        req.description.clone().flatten().as_deref(),
        500,
    );
    // The SDK re-sends the certificate it read: only a different one is re-validated.
    let parsed = match req.certificate.as_deref() {
        Some(pem) if pem_key(pem) != pem_key(&current.certificate) => match parse_pem(pem) {
            Ok(p) => {
                // The stored device key belongs to this certificate; replacing it would hand
                // devices a key that matches nothing.
                if current.device_execution_mode == DEVELOPER_MODE
                    && p.fingerprint_sha256_hex != current.fingerprint
                {
                    c.fail(
                        CertError::FIELD,
                        "The certificate of a developer certificate cannot be replaced.",
                    );
                }
                Some(p)
            }
            Err(e) => {
                c.fail(CertError::FIELD, e.to_string());
                None
            }
        },
        _ => None,
    };
    c.finish()?;
    let change = |cert: &mut TrustedCertRecord| {
        if let Some(name) = &req.name {
            cert.name = name.clone();
        }
        if let Some(description) = &req.description {
            cert.description = description.clone();
        }
        if let Some(service) = &req.service {
            cert.service = service.clone();
        }
        if let Some(status) = status {
            cert.status = status;
        }
        if let Some(mode) = req.enrollment_mode {
            cert.enrollment_mode = mode;
        }
        if let Some(p) = &parsed {
            apply_parsed(cert, p);
        }
        Ok(())
    };
    let target = ("trusted-certificate", &*current.id);
    Ok(state
        .store
        .transact(|tx| {
            let (before, after) = store_certs::update_in(tx, &scope.id(), &current.id, &change)?;
            audit::record(tx, scope, "update", target, Some(&before), Some(&after))?;
            Ok(after)
        })?
        .durable()
        .await?)
}

/// DELETE /v3/trusted-certificates/{cert_id}
///
/// Also deletes the developer certificate of the same id. Admins, or the owner of a
/// developer certificate (see the module comment).
pub async fn delete(
    state: &AppState,
    scope: &AccountScope,
    cert: &TrustedCertRecord,
) -> ApiResult<()> {
    let own_developer_cert = cert.device_execution_mode == DEVELOPER_MODE
        && cert.owner_id.is_some()
        && cert.owner_id == scope.caller.user_id()
        && !scope.tenant;
    if !scope.is_admin() && !own_developer_cert {
        return Err(ApiError::forbidden());
    }
    let target = ("trusted-certificate", &*cert.id);
    state
        .store
        .transact(|tx| {
            let gone = store_certs::delete_in(tx, &scope.id(), &cert.id)?;
            audit::record(tx, scope, "delete", target, Some(&gone), None)
        })?
        .durable()
        .await?;
    Ok(())
}
