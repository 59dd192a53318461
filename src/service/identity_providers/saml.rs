//! SAML2 input checks: entity ids, endpoint URLs and identity-provider certificates, and
//! (in `metadata`) the base64 `entity_descriptor` metadata document.

mod metadata;

pub use metadata::{parse_entity_descriptor, Metadata, MAX_METADATA_BYTES};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};

/// SAML entity ids are URIs of at most 1024 characters (SAML 2.0 core, 8.3.6).
pub const MAX_ENTITY_ID: usize = 1024;
pub const MAX_URL: usize = 2048;
pub const MAX_CERTS: usize = 10;

/// An entity id: non-blank, at most 1024 characters, no control characters.
pub fn check_entity_id(value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_ENTITY_ID {
        return Err(format!("Must be at most {MAX_ENTITY_ID} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("Must not contain control characters.".into());
    }
    Ok(())
}

/// An absolute `http(s)` URL with a host and no whitespace.
pub fn check_url(value: &str) -> Result<(), String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    let ok = host.is_some_and(|h| !h.is_empty())
        && value.chars().count() <= MAX_URL
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Must be an absolute http:// or https:// URL of at most {MAX_URL} characters."
        ))
    }
}

/// One PEM certificate (or bare base64 DER, as metadata carries it) checked to be a
/// currently valid X.509 certificate, returned as normalised PEM.
///
/// Only parsing and the validity period are checked: SAML uses the certificate as a key
/// container, so issuer and signature algorithm do not matter here.
pub fn normalise_cert(text: &str) -> Result<String, String> {
    let cleaned = text.replace("\\r\\n", "\n").replace("\\n", "\n");
    let der = if cleaned.contains("-----BEGIN") {
        let mut blocks = Pem::iter_from_buffer(cleaned.trim().as_bytes());
        let block = match blocks.next() {
            Some(Ok(block)) => block,
            _ => return Err("Must be a PEM certificate (damaged PEM block).".into()),
        };
        if block.label != "CERTIFICATE" {
            return Err("Must be a PEM CERTIFICATE block.".into());
        }
        if blocks.next().is_some() {
            return Err("Must hold exactly one certificate.".into());
        }
        block.contents
    } else {
        let compact: String = cleaned.chars().filter(|c| !c.is_whitespace()).collect();
        STANDARD
            .decode(compact)
            .map_err(|_| "Must be a PEM certificate.".to_string())?
    };
    let cert = match X509Certificate::from_der(&der) {
        Ok(([], cert)) => cert,
        _ => return Err("Must be a valid X.509 certificate.".into()),
    };
    let not_after = cert.validity().not_after.to_datetime();
    if not_after < time::OffsetDateTime::now_utc() {
        return Err(format!(
            "The certificate expired at {}.",
            crate::clock::rfc3339((not_after.unix_timestamp_nanos() / 1_000_000) as i64)
        ));
    }
    Ok(crate::pki::pem_encode("CERTIFICATE", &der))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate as PEM and as the base64 body metadata carries (shared with `metadata`).
    pub(super) fn cert_b64() -> (String, String) {
        let pem = crate::pki::generate_sp_certificate("idp", 30, crate::pki::SpKey::P256).unwrap();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        (pem, body)
    }

    #[test]
    fn certificates_are_parsed_and_normalised() {
        let (pem, body) = cert_b64();
        assert_eq!(normalise_cert(&pem).unwrap(), pem);
        assert_eq!(normalise_cert(&pem.replace('\n', "\r\n")).unwrap(), pem);
        assert_eq!(normalise_cert(&body).unwrap(), pem);
        assert!(normalise_cert("garbage").is_err());
        assert!(normalise_cert(&format!("{pem}{pem}")).is_err());
        let expired = crate::pki::testcerts::expired_cert();
        assert!(normalise_cert(&expired).unwrap_err().contains("expired"));
    }

    #[test]
    fn urls_and_entity_ids() {
        assert!(check_url("https://idp.example.com/sso").is_ok());
        assert!(check_url("http://h").is_ok());
        assert!(check_url("ftp://h").is_err());
        assert!(check_url("https://").is_err());
        assert!(check_url("https://h/a b").is_err());
        assert!(check_entity_id("urn:x").is_ok());
        assert!(check_entity_id(&"x".repeat(1025)).is_err());
    }
}
