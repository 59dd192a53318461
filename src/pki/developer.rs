//! Developer certificates (`POST /v3/developer-certificates`).

use rcgen::{BasicConstraints, DistinguishedName, DnType, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};

use super::encoding::pem_encode;
use super::{base_params, years_after, PkiError};

/// The real service issues developer certificates for ten years.
const DEVELOPER_CERT_VALIDITY_YEARS: i32 = 10;

/// A fresh developer identity. The private key is part of the API response
/// (`developer_private_key`), hence public fields; `Debug` still hides it.
#[derive(Clone)]
pub struct DeveloperCert {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    /// PKCS#8, `-----BEGIN PRIVATE KEY-----`.
    pub private_key_pem: String,
    /// PKCS#8 DER, the form the device firmware embeds.
    pub private_key_der: Vec<u8>,
}

impl std::fmt::Debug for DeveloperCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeveloperCert")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl DeveloperCert {
    /// Self-signed P-256 certificate shaped like the real service's: subject and
    /// issuer `OU=<account_id>, CN=<endpoint_name>`, basic constraints CA with
    /// path length 0 (the bootstrap server treats it as its own trust anchor),
    /// valid from now for ten years.
    pub fn generate(account_id: &str, endpoint_name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationalUnitName, account_id);
        dn.push(DnType::CommonName, endpoint_name);
        let now = time::OffsetDateTime::now_utc();
        let mut params = base_params(dn, now, years_after(now, DEVELOPER_CERT_VALIDITY_YEARS));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().to_vec();
        let private_key_der = key.serialize_der();
        Ok(Self {
            cert_pem: pem_encode("CERTIFICATE", &cert_der),
            cert_der,
            private_key_pem: pem_encode("PRIVATE KEY", &private_key_der),
            private_key_der,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::{FromDer, X509Certificate};

    const ACCOUNT: &str = "015843e32ec902420a015e0700000000";
    const ENDPOINT: &str = "0161dbbcdd660a580a010c3403c00000";

    #[test]
    fn subject_issuer_and_constraints_match_the_real_service() {
        let dev = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        let (_, cert) = X509Certificate::from_der(&dev.cert_der).unwrap();
        assert_eq!(
            cert.subject().to_string(),
            format!("OU={ACCOUNT}, CN={ENDPOINT}")
        );
        assert_eq!(cert.subject(), cert.issuer());
        cert.verify_signature(None).unwrap();
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical);
        assert!(bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
    }

    #[test]
    fn valid_for_ten_years_from_now() {
        let dev = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        let (_, cert) = X509Certificate::from_der(&dev.cert_der).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let nb = cert.validity().not_before.to_datetime();
        let na = cert.validity().not_after.to_datetime();
        assert!((now - nb).whole_seconds().abs() < 60);
        assert_eq!(na.year() - nb.year(), 10);
        assert_eq!((na.month(), na.day()), (nb.month(), nb.day()));
    }

    #[test]
    fn key_is_pkcs8_p256_and_matches_the_certificate() {
        let dev = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        assert!(dev
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let key = KeyPair::from_pem(&dev.private_key_pem).unwrap();
        assert_eq!(key.serialize_der(), dev.private_key_der);
        assert_eq!(key.algorithm(), &PKCS_ECDSA_P256_SHA256);
        let (_, cert) = X509Certificate::from_der(&dev.cert_der).unwrap();
        assert_eq!(
            key.public_key_raw(),
            cert.public_key().subject_public_key.data.as_ref()
        );
        let (_, pem) = x509_parser::pem::parse_x509_pem(dev.cert_pem.as_bytes()).unwrap();
        assert_eq!(pem.contents, dev.cert_der);
    }

    #[test]
    fn every_call_makes_a_new_key() {
        let a = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        let b = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        assert_ne!(a.private_key_der, b.private_key_der);
        assert_ne!(a.cert_der, b.cert_der);
    }

    #[test]
    fn debug_hides_the_private_key() {
        let dev = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        assert!(!format!("{dev:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn accepted_by_trusted_certificate_intake() {
        let dev = DeveloperCert::generate(ACCOUNT, ENDPOINT).unwrap();
        let parsed =
            super::super::parse_trusted_chain(&dev.cert_pem, time::OffsetDateTime::now_utc())
                .unwrap();
        assert!(parsed.is_self_signed);
        assert_eq!(parsed.subject_cn.as_deref(), Some(ENDPOINT));
        assert_eq!(parsed.subject_ou.as_deref(), Some(ACCOUNT));
    }
}
