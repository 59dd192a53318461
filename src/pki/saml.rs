//! SAML service-provider certificate (`POST .../generate-sp-certificate`).

use rcgen::{DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};

use super::encoding::pem_encode;
use super::{base_params, PkiError};

/// Self-signed P-256 certificate `CN=<common_name>` valid for `validity_days`
/// from now, as PEM for `sp_x509_cert`.
///
/// The key is dropped on purpose: iamd only publishes the SP certificate and
/// never signs SAML messages, so keeping the key would be a secret without a use.
/// `validity_days` of 0, or one that runs past year 9999, is
/// [`PkiError::ValidityOutOfRange`] (the API's "invalid certificate validity").
pub fn generate_sp_certificate(common_name: &str, validity_days: u32) -> Result<String, PkiError> {
    let now = time::OffsetDateTime::now_utc();
    let not_after = (validity_days > 0)
        .then(|| now.checked_add(time::Duration::days(i64::from(validity_days))))
        .flatten()
        .filter(|t| t.year() <= 9999)
        .ok_or(PkiError::ValidityOutOfRange)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    let cert = base_params(dn, now, not_after).self_signed(&key)?;
    Ok(pem_encode("CERTIFICATE", cert.der()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_self_signed_pem_with_the_requested_validity() {
        let pem = generate_sp_certificate("iamd SAML SP", 365).unwrap();
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let cert = block.parse_x509().unwrap();
        assert_eq!(cert.subject().to_string(), "CN=iamd SAML SP");
        assert_eq!(cert.subject(), cert.issuer());
        cert.verify_signature(None).unwrap();
        let v = cert.validity();
        let secs = v.not_after.timestamp() - v.not_before.timestamp();
        assert_eq!(secs, 365 * 86_400);
    }

    #[test]
    fn passes_trusted_certificate_intake() {
        let pem = generate_sp_certificate("sp", 1).unwrap();
        let parsed =
            super::super::parse_trusted_chain(&pem, time::OffsetDateTime::now_utc()).unwrap();
        assert!(parsed.is_self_signed);
        assert_eq!(parsed.subject_cn.as_deref(), Some("sp"));
    }

    #[test]
    fn rejects_zero_and_absurd_validity() {
        assert!(matches!(
            generate_sp_certificate("sp", 0),
            Err(PkiError::ValidityOutOfRange)
        ));
        assert!(matches!(
            generate_sp_certificate("sp", u32::MAX),
            Err(PkiError::ValidityOutOfRange)
        ));
    }
}
