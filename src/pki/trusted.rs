//! Intake of uploaded trusted certificates (`POST /v3/trusted-certificates`).
//! The upload is parsed, never trusted as text: what is stored and shown comes
//! from the decoded certificates.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate, X509Error};
use x509_parser::public_key::PublicKey;

use super::dn::{first_text, rfc4514, OID_CN, OID_OU};
use super::encoding::{pem_encode, sha256_hex};

/// Longest chain accepted; real device CA chains have two or three links, and a
/// cap keeps one request from costing unbounded signature checks.
pub const MAX_CHAIN_LEN: usize = 10;

/// Smallest RSA modulus accepted, per NIST SP 800-131A.
const MIN_RSA_BITS: usize = 2048;

/// Why an upload was refused. `Display` is the message for the API's field
/// error on field [`CertError::FIELD`]; positions count from 1 in upload order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("Certificate must be PEM: one or more -----BEGIN CERTIFICATE----- blocks.")]
    NotPem,
    #[error("Certificate PEM block {position} is damaged (bad base64 or no END line).")]
    BadPem { position: usize },
    #[error("Only CERTIFICATE PEM blocks are accepted; block {position} is {label}.")]
    NotACertificateBlock { position: usize, label: String },
    #[error("Certificate chain has {0} certificates; at most {MAX_CHAIN_LEN} are accepted.")]
    ChainTooLong(usize),
    #[error("Certificate {position} is not a valid X.509 certificate.")]
    NotX509 { position: usize },
    #[error("Certificate {position} expired at {not_after}.")]
    Expired { position: usize, not_after: String },
    #[error("Certificate {position} is not valid before {not_before}.")]
    NotYetValid { position: usize, not_before: String },
    #[error("Certificate {position} has a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required.")]
    WeakRsaKey { position: usize, bits: usize },
    #[error("Certificate {position} is signed with {algorithm}, which is not accepted; use SHA-256 or stronger.")]
    WeakSignature {
        position: usize,
        algorithm: &'static str,
    },
    #[error("Certificate {position} uses an unsupported signature or key algorithm.")]
    UnsupportedAlgorithm { position: usize },
    #[error("Certificate chain is broken: the issuer of certificate {position} is not the subject of certificate {}.", position + 1)]
    IssuerMismatch { position: usize },
    #[error("Certificate chain is broken: the signature of certificate {position} does not verify with the key of certificate {}.", position + 1)]
    BadSignature { position: usize },
}

impl CertError {
    /// The request field every intake error refers to.
    pub const FIELD: &'static str = "certificate";
}

/// What iamd records about an accepted upload. All text fields are derived from
/// the decoded leaf certificate, never copied from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCert {
    /// Leaf subject, RFC 4514 (`CN=ep,OU=acct`).
    pub subject: String,
    /// Leaf issuer, RFC 4514.
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SHA-256 of the leaf DER, lowercase hex (`certificate_fingerprint`).
    pub fingerprint_sha256_hex: String,
    /// Issuer equals subject and the leaf's signature verifies with its own key.
    pub is_self_signed: bool,
    /// The whole chain re-encoded, leaf first, 64-column base64, `\n` line ends.
    pub pem: String,
    pub leaf_der: Vec<u8>,
    pub subject_cn: Option<String>,
    pub subject_ou: Option<String>,
    pub chain_len: usize,
}

/// Parse and vet an uploaded chain. Leaf first is expected; a chain uploaded root
/// first (as the spec's "from root to leaf" wording invites) is accepted and
/// reordered. Every certificate must be currently valid at `now`, use no
/// MD5/SHA-1 signature and no RSA key under 2048 bits; each must be issued (name
/// and signature) by the next.
pub fn parse_trusted_chain(pem_text: &str, now: OffsetDateTime) -> Result<ParsedCert, CertError> {
    let ders = pem_certificates(pem_text)?;
    let mut chain = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        let position = i + 1;
        let cert = match X509Certificate::from_der(der) {
            Ok(([], cert)) => cert,
            _ => return Err(CertError::NotX509 { position }),
        };
        vet_one(&cert, position, now)?;
        chain.push((position, der.as_slice(), cert));
    }
    if !names_link(chain.iter().map(|(_, _, c)| c))
        && names_link(chain.iter().rev().map(|(_, _, c)| c))
    {
        chain.reverse();
    }
    for pair in chain.windows(2) {
        let ((position, _, cert), (_, _, issuer)) = (&pair[0], &pair[1]);
        let position = *position;
        if cert.issuer().as_raw() != issuer.subject().as_raw() {
            return Err(CertError::IssuerMismatch { position });
        }
        match cert.verify_signature(Some(issuer.public_key())) {
            Ok(()) => {}
            Err(X509Error::SignatureUnsupportedAlgorithm) => {
                return Err(CertError::UnsupportedAlgorithm { position })
            }
            Err(_) => return Err(CertError::BadSignature { position }),
        }
    }
    let (_, leaf_der, leaf) = &chain[0];
    Ok(ParsedCert {
        subject: rfc4514(leaf.subject()),
        issuer: rfc4514(leaf.issuer()),
        not_before: leaf.validity().not_before.to_datetime(),
        not_after: leaf.validity().not_after.to_datetime(),
        fingerprint_sha256_hex: sha256_hex(leaf_der),
        is_self_signed: leaf.subject().as_raw() == leaf.issuer().as_raw()
            && leaf.verify_signature(None).is_ok(),
        pem: chain
            .iter()
            .map(|(_, der, _)| pem_encode("CERTIFICATE", der))
            .collect(),
        leaf_der: leaf_der.to_vec(),
        subject_cn: first_text(leaf.subject(), OID_CN),
        subject_ou: first_text(leaf.subject(), OID_OU),
        chain_len: chain.len(),
    })
}

/// DER of every CERTIFICATE block. Tolerates CRLF, indentation and JSON-style
/// literal `\n` (clients that double-escape); base64 never contains a backslash,
/// so that rewrite cannot alter certificate bytes.
fn pem_certificates(pem_text: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let cleaned: String = pem_text
        .replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .flat_map(|l| [l, "\n"])
        .collect();
    let mut ders = Vec::new();
    for (i, block) in Pem::iter_from_buffer(cleaned.as_bytes()).enumerate() {
        let position = i + 1;
        if position > MAX_CHAIN_LEN {
            let total = cleaned.matches("-----BEGIN ").count();
            return Err(CertError::ChainTooLong(total));
        }
        let block = block.map_err(|_| CertError::BadPem { position })?;
        if block.label != "CERTIFICATE" {
            return Err(CertError::NotACertificateBlock {
                position,
                label: printable_label(&block.label),
            });
        }
        ders.push(block.contents);
    }
    if ders.is_empty() {
        return Err(CertError::NotPem);
    }
    Ok(ders)
}

/// The label goes back to the client inside a message: keep it short and plain.
fn printable_label(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .take(40)
        .collect()
}

fn names_link<'a, 'b: 'a>(mut certs: impl Iterator<Item = &'a X509Certificate<'b>>) -> bool {
    let Some(mut prev) = certs.next() else {
        return true;
    };
    for next in certs {
        if prev.issuer().as_raw() != next.subject().as_raw() {
            return false;
        }
        prev = next;
    }
    true
}

fn vet_one(
    cert: &X509Certificate<'_>,
    position: usize,
    now: OffsetDateTime,
) -> Result<(), CertError> {
    if let Some(algorithm) = weak_signature_name(&cert.signature_algorithm.algorithm.to_id_string())
    {
        return Err(CertError::WeakSignature {
            position,
            algorithm,
        });
    }
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = modulus_bits(rsa.modulus);
            if bits < MIN_RSA_BITS {
                return Err(CertError::WeakRsaKey { position, bits });
            }
        }
        Ok(PublicKey::EC(_)) => {}
        // DSA, GOST and unknown key types cannot be verified by iamd or devices.
        _ => return Err(CertError::UnsupportedAlgorithm { position }),
    }
    let validity = cert.validity();
    let not_after = validity.not_after.to_datetime();
    if not_after < now {
        return Err(CertError::Expired {
            position,
            not_after: rfc3339(not_after),
        });
    }
    let not_before = validity.not_before.to_datetime();
    if not_before > now {
        return Err(CertError::NotYetValid {
            position,
            not_before: rfc3339(not_before),
        });
    }
    Ok(())
}

/// Signature algorithms whose hash has practical collisions (MD2/MD4/MD5,
/// SHA-1): a certificate signed with one proves nothing about its issuer.
fn weak_signature_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.2" => "MD2 with RSA",
        "1.2.840.113549.1.1.3" => "MD4 with RSA",
        "1.2.840.113549.1.1.4" | "1.3.14.3.2.3" | "1.3.14.3.2.25" => "MD5 with RSA",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "SHA-1 with RSA",
        "1.2.840.10045.4.1" => "ECDSA with SHA-1",
        "1.2.840.10040.4.3" | "1.3.14.3.2.27" => "DSA with SHA-1",
        _ => return None,
    })
}

/// Bit length of a big-endian modulus. x509-parser's own `key_size` assumes a
/// single leading zero byte and misreports keys like 2047-bit ones.
fn modulus_bits(modulus: &[u8]) -> usize {
    let digits = match modulus.iter().position(|&b| b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    digits.len() * 8 - digits[0].leading_zeros() as usize
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
#[path = "trusted_tests.rs"]
mod tests;
