//! Developer certificates (see `certificates` for what they are and who may see the
//! device's private key).

use super::certificates::{new_record, DEVELOPER_MODE};
use super::scope::AccountScope;
use super::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::ids::{CertificateId, Id};
use crate::pki::{parse_trusted_chain, DeveloperCert};
use crate::state::AppState;
use crate::store::certificates::{self as store_certs, DeveloperKeyRecord, TrustedCertRecord};
use serde::Deserialize;

/// Whether the caller may see the device's private key: the certificate's owner or an admin.
pub fn may_see_key(scope: &AccountScope, cert: &TrustedCertRecord) -> bool {
    scope.is_admin() || (cert.owner_id.is_some() && cert.owner_id == scope.caller.user_id())
}

/// `DeveloperCertificateRequestData`.
#[derive(Deserialize)]
pub struct DeveloperCertCreate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// POST /v3/developer-certificates: the certificate and its device identity.
pub async fn create(
    state: &AppState,
    scope: &AccountScope,
    req: DeveloperCertCreate,
) -> ApiResult<(TrustedCertRecord, DeveloperKeyRecord)> {
    let mut c = Checks::new();
    c.required_text("name", req.name.as_deref(), 100, "Required.");
    c.max_len("description", req.description.as_deref(), 500);
    c.finish()?;
    let account = scope.id();
    let endpoint_name = Id::new().hex();
    let dev = DeveloperCert::generate(&account.hex(), &endpoint_name)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The same intake as uploads, so a developer certificate is shown exactly like any
    // other trusted certificate.
    let parsed = parse_trusted_chain(&dev.cert_pem, time::OffsetDateTime::now_utc())
        .map_err(|e| ApiError::Internal(format!("generated certificate refused: {e}")))?;
    let record = TrustedCertRecord {
        name: req.name.unwrap_or_default(),
        description: req.description,
        service: "bootstrap".into(),
        device_execution_mode: DEVELOPER_MODE,
        owner_id: scope.caller.user_id(),
        ..new_record(account, &parsed)
    };
    let key = DeveloperKeyRecord {
        endpoint_name,
        cert_der: dev.cert_der.clone(),
        private_key_der: dev.private_key_der.clone(),
        private_key_pem: dev.private_key_pem.clone(),
    };
    let limit = u64::from(state.config.limits.developer_certificates_per_account);
    // The device's private key is in `key`, never in the entry (the record holds no secret).
    let developer = (key.clone(), limit);
    let target = ("developer-certificate", &*record.id);
    state
        .store
        .transact(|tx| {
            store_certs::create_in(tx, &record, Some(&developer))?;
            super::audit::record(tx, scope, "create", target, None, Some(&record))
        })?
        .durable()
        .await?;
    Ok((record, key))
}

/// GET /v3/developer-certificates/{developerCertificateId}: `None` for an id that names no
/// developer certificate of the account (a trusted certificate that is not one included).
pub fn get(
    state: &AppState,
    scope: &AccountScope,
    id: CertificateId,
) -> ApiResult<Option<(TrustedCertRecord, DeveloperKeyRecord)>> {
    let Some(cert) = state.store.certificates.get(&scope.id(), &id)? else {
        return Ok(None);
    };
    let key = state
        .store
        .certificates
        .developer_key(&scope.id(), &cert.id)?;
    Ok(key.map(|key| (cert, key)))
}
