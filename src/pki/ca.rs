//! The server CAs (bootstrap and LwM2M) generated at first start.

use rcgen::{
    BasicConstraints, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::encoding::pem_encode;
use super::{base_params, years_after, PkiError};

/// Leading byte of the storage encoding, so a later release can change the layout
/// and still read what an older one wrote.
const STORAGE_FORMAT_V1: u8 = 1;

/// Long enough to outlive any deployment, matching the ~35 years of the real
/// service's bootstrap and LwM2M CAs, because devices pin these roots.
const CA_VALIDITY_YEARS: i32 = 35;

/// An EC P-256 self-signed CA. The private key is only reachable through
/// [`ServerCa::to_storage_bytes`]; `Debug` omits it so it cannot end up in logs.
#[derive(Clone)]
pub struct ServerCa {
    cert_der: Vec<u8>,
    key_pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for ServerCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCa")
            .field("cert_der_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

impl ServerCa {
    /// New CA with subject `CN=<common_name>`, CA basic constraints and key usage
    /// for signing certificates and CRLs.
    pub fn generate(common_name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        // Backdated a little so a device whose clock lags the server still accepts it.
        let now = time::OffsetDateTime::now_utc();
        let mut params = base_params(
            dn,
            now - time::Duration::hours(1),
            years_after(now, CA_VALIDITY_YEARS),
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().to_vec(),
            key_pkcs8_der: key.serialize_der(),
        })
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA certificate in PEM, as `/v3/server-credentials` returns it.
    pub fn cert_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// Serialization for the data store. Contains the PRIVATE KEY: write it only
    /// to storage, never into a response or a log.
    ///
    /// Layout: `[1u8][u32 BE cert len][cert DER][u32 BE key len][PKCS#8 key DER]`.
    pub fn to_storage_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.cert_der.len() + self.key_pkcs8_der.len());
        out.push(STORAGE_FORMAT_V1);
        for part in [&self.cert_der, &self.key_pkcs8_der] {
            // Both parts are a few hundred bytes; u32 cannot overflow.
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Inverse of [`ServerCa::to_storage_bytes`]. Checks that the certificate
    /// parses, the key is P-256 and the key belongs to the certificate, so a
    /// damaged record fails at start-up rather than when a device connects.
    pub fn from_storage_bytes(bytes: &[u8]) -> Result<Self, PkiError> {
        let (&version, mut rest) = bytes
            .split_first()
            .ok_or(PkiError::CorruptStorage("empty record"))?;
        if version != STORAGE_FORMAT_V1 {
            return Err(PkiError::CorruptStorage("unknown format version"));
        }
        let cert_der = take_part(&mut rest)?;
        let key_pkcs8_der = take_part(&mut rest)?;
        if !rest.is_empty() {
            return Err(PkiError::CorruptStorage("trailing bytes"));
        }
        let (_, cert) = X509Certificate::from_der(&cert_der)
            .map_err(|_| PkiError::CorruptStorage("certificate does not parse"))?;
        let key = KeyPair::try_from(key_pkcs8_der.as_slice())
            .map_err(|_| PkiError::CorruptStorage("private key does not parse"))?;
        if key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(PkiError::CorruptStorage("private key is not P-256"));
        }
        if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
            return Err(PkiError::CorruptStorage(
                "private key does not match certificate",
            ));
        }
        Ok(Self {
            cert_der,
            key_pkcs8_der,
        })
    }
}

fn take_part(rest: &mut &[u8]) -> Result<Vec<u8>, PkiError> {
    let short = PkiError::CorruptStorage("truncated record");
    if rest.len() < 4 {
        return Err(short);
    }
    let (len, tail) = rest.split_at(4);
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if tail.len() < len {
        return Err(short);
    }
    let (part, tail) = tail.split_at(len);
    *rest = tail;
    Ok(part.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::ParsedExtension;

    #[test]
    fn generated_ca_is_a_p256_self_signed_ca() {
        let ca = ServerCa::generate("iamd Bootstrap CA").unwrap();
        let (_, cert) = X509Certificate::from_der(ca.cert_der()).unwrap();
        assert_eq!(cert.subject().to_string(), "CN=iamd Bootstrap CA");
        assert_eq!(cert.subject(), cert.issuer());
        assert!(cert.is_ca());
        cert.verify_signature(None).unwrap();
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign());
        assert!(cert.extensions().iter().any(
            |e| matches!(e.parsed_extension(), ParsedExtension::BasicConstraints(bc) if bc.ca)
        ));
        assert_eq!(
            cert.public_key()
                .algorithm
                .parameters
                .as_ref()
                .unwrap()
                .as_oid()
                .unwrap(),
            x509_parser::oid_registry::OID_EC_P256
        );
        let years = cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
        assert!(years > 34 * 365 * 86400);
    }

    #[test]
    fn cert_pem_wraps_the_der() {
        let ca = ServerCa::generate("x").unwrap();
        let pem = ca.cert_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        assert_eq!(parsed.contents, ca.cert_der());
    }

    #[test]
    fn storage_round_trip_keeps_cert_and_key() {
        let ca = ServerCa::generate("LwM2M CA").unwrap();
        let bytes = ca.to_storage_bytes();
        let back = ServerCa::from_storage_bytes(&bytes).unwrap();
        assert_eq!(back.cert_der(), ca.cert_der());
        assert_eq!(back.to_storage_bytes(), bytes);
    }

    #[test]
    fn corrupt_storage_is_rejected() {
        let bytes = ServerCa::generate("x").unwrap().to_storage_bytes();
        assert!(ServerCa::from_storage_bytes(&[]).is_err());
        assert!(ServerCa::from_storage_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 9;
        assert!(ServerCa::from_storage_bytes(&wrong_version).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(ServerCa::from_storage_bytes(&trailing).is_err());
    }

    #[test]
    fn key_from_another_ca_is_rejected() {
        let a = ServerCa::generate("a").unwrap();
        let b = ServerCa::generate("b").unwrap();
        let mixed = ServerCa {
            cert_der: a.cert_der.clone(),
            key_pkcs8_der: b.key_pkcs8_der.clone(),
        };
        let err = ServerCa::from_storage_bytes(&mixed.to_storage_bytes()).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let ca = ServerCa::generate("x").unwrap();
        let dbg = format!("{ca:?}");
        assert!(!dbg.contains("key_pkcs8"), "{dbg}");
    }
}
