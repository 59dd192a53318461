//! SAML service-provider certificate (`POST .../generate-sp-certificate`).

use rcgen::{
    DistinguishedName, DnType, KeyPair, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384, PKCS_RSA_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;
use rustls::pki_types::PrivatePkcs8KeyDer;

use super::encoding::pem_encode;
use super::{base_params, PkiError};

/// The key of an SP certificate: the algorithms of `CertificateGenerationReq.algorithm`
/// that can be generated and signed here (ring signs neither P-224 nor P-521).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpKey {
    /// The API's default.
    #[default]
    Rsa2048,
    Rsa3072,
    P256,
    P384,
}

impl SpKey {
    /// The key for an `algorithm` value of the API; `None` for one this server cannot make.
    pub fn from_api(algorithm: &str) -> Option<SpKey> {
        Some(match algorithm {
            "RSA2048" => SpKey::Rsa2048,
            "RSA3072" => SpKey::Rsa3072,
            "EC256" | "ECDSA256" => SpKey::P256,
            "EC384" | "ECDSA384" => SpKey::P384,
            _ => return None,
        })
    }

    fn generate(self) -> Result<KeyPair, PkiError> {
        let rsa = |bits: usize, alg: &'static SignatureAlgorithm| {
            // rsa makes the key, ring (through rcgen) signs with it.
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .map_err(|e| PkiError::KeyGeneration(e.to_string()))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| PkiError::KeyGeneration(e.to_string()))?;
            let der = PrivatePkcs8KeyDer::from(der.as_bytes());
            Ok(KeyPair::from_pkcs8_der_and_sign_algo(&der, alg)?)
        };
        match self {
            SpKey::Rsa2048 => rsa(2048, &PKCS_RSA_SHA256),
            SpKey::Rsa3072 => rsa(3072, &PKCS_RSA_SHA256),
            SpKey::P256 => Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?),
            SpKey::P384 => Ok(KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?),
        }
    }
}

/// Self-signed certificate `CN=<common_name>` with a new `key`, valid for `validity_days`
/// from now, as PEM for `sp_x509_cert`.
///
/// The key is dropped on purpose: iamd only publishes the SP certificate and
/// never signs SAML messages, so keeping the key would be a secret without a use.
/// `validity_days` of 0, or one that runs past year 9999, is
/// [`PkiError::ValidityOutOfRange`] (the API's "invalid certificate validity").
/// RSA keys take a noticeable time to make: call this off the request threads.
pub fn generate_sp_certificate(
    common_name: &str,
    validity_days: u32,
    key: SpKey,
) -> Result<String, PkiError> {
    let now = time::OffsetDateTime::now_utc();
    let not_after = (validity_days > 0)
        .then(|| now.checked_add(time::Duration::days(i64::from(validity_days))))
        .flatten()
        .filter(|t| t.year() <= 9999)
        .ok_or(PkiError::ValidityOutOfRange)?;
    let key = key.generate()?;
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
        let pem = generate_sp_certificate("iamd SAML SP", 365, SpKey::P256).unwrap();
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
        let pem = generate_sp_certificate("sp", 1, SpKey::P256).unwrap();
        let parsed =
            super::super::parse_trusted_chain(&pem, time::OffsetDateTime::now_utc()).unwrap();
        assert!(parsed.is_self_signed);
        assert_eq!(parsed.subject_cn.as_deref(), Some("sp"));
    }

    #[test]
    fn rejects_zero_and_absurd_validity() {
        assert!(matches!(
            generate_sp_certificate("sp", 0, SpKey::P256),
            Err(PkiError::ValidityOutOfRange)
        ));
        assert!(matches!(
            generate_sp_certificate("sp", u32::MAX, SpKey::P256),
            Err(PkiError::ValidityOutOfRange)
        ));
    }
}
