//! Certificates for tests, here and in the HTTP tests of the main crate.
//!
//! Generated ones come from rcgen on each call. rcgen cannot make RSA keys or
//! SHA-1/MD5 signatures, so those are fixed PEM files made once with the openssl
//! CLI (see `fixtures/README.md`), valid for 100 years so tests do not rot.

use rcgen::{
    BasicConstraints, Certificate, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use super::base_params;

/// Self-signed RSA-2048 certificate signed with SHA-1 (rejected).
pub const SHA1_SIGNED_PEM: &str = include_str!("fixtures/sha1.pem");
/// Self-signed RSA-2048 certificate signed with MD5 (rejected).
pub const MD5_SIGNED_PEM: &str = include_str!("fixtures/md5.pem");
/// Self-signed RSA-1024 certificate signed with SHA-256 (rejected: key too small).
pub const RSA1024_PEM: &str = include_str!("fixtures/rsa1024.pem");
/// Self-signed RSA-2048 SHA-256 certificate, subject
/// `O=iamd tests,OU=acct123,CN=rsa2048 test` (accepted).
pub const RSA2048_PEM: &str = include_str!("fixtures/rsa2048.pem");
/// Leaf (SHA-256, RSA-2048) followed by its CA whose self-signature is SHA-1
/// (rejected: weak signature on certificate 2).
pub const SHA1_ROOT_CHAIN_PEM: &str = include_str!("fixtures/chain_sha1_root.pem");

/// A CA and a leaf it issued, in every form a test might want.
#[derive(Debug, Clone)]
pub struct TestChain {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub leaf_pem: String,
    pub leaf_der: Vec<u8>,
    /// Leaf then CA: the upload form `parse_trusted_chain` expects.
    pub chain_pem: String,
}

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "iamd tests");
    dn.push(DnType::CommonName, cn);
    dn
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn make_ca(cn: &str) -> Ca {
    let key = KeyPair::generate().expect("P-256 key generation");
    let mut params = base_params(
        dn(cn),
        now() - Duration::days(1),
        now() + Duration::days(3650),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("self-signed CA");
    Ca { cert, key }
}

fn leaf_signed_by(ca: &Ca, cn: &str) -> Certificate {
    let key = KeyPair::generate().expect("P-256 key generation");
    let params = base_params(
        dn(cn),
        now() - Duration::days(1),
        now() + Duration::days(365),
    );
    params
        .signed_by(&key, &ca.cert, &ca.key)
        .expect("CA-signed leaf")
}

/// A leaf issued by a CA, both valid now.
pub fn valid_chain() -> TestChain {
    let ca = make_ca("iamd test CA");
    let leaf = leaf_signed_by(&ca, "iamd test leaf");
    TestChain {
        ca_pem: ca.cert.pem(),
        ca_der: ca.cert.der().to_vec(),
        leaf_pem: leaf.pem(),
        leaf_der: leaf.der().to_vec(),
        chain_pem: format!("{}{}", leaf.pem(), ca.cert.pem()),
    }
}

/// Leaf followed by a *different* CA with the same name: the names link but the
/// leaf's signature does not verify under that CA's key.
pub fn broken_chain() -> String {
    let real = make_ca("iamd test CA");
    let impostor = make_ca("iamd test CA");
    let leaf = leaf_signed_by(&real, "iamd test leaf");
    format!("{}{}", leaf.pem(), impostor.cert.pem())
}

/// Leaf followed by a CA whose name is not the leaf's issuer.
pub fn unrelated_ca_chain() -> String {
    let real = make_ca("iamd test CA");
    let other = make_ca("some other CA");
    let leaf = leaf_signed_by(&real, "iamd test leaf");
    format!("{}{}", leaf.pem(), other.cert.pem())
}

/// Self-signed P-256 certificate with subject `O=iamd tests, CN=<cn>` and the
/// given validity window.
pub fn self_signed_with_validity(
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> String {
    let key = KeyPair::generate().expect("P-256 key generation");
    base_params(dn(cn), not_before, not_after)
        .self_signed(&key)
        .expect("self-signed certificate")
        .pem()
}

/// Self-signed P-256 certificate valid from yesterday for a year.
pub fn self_signed(cn: &str) -> String {
    self_signed_with_validity(cn, now() - Duration::days(1), now() + Duration::days(365))
}

/// Valid 2000-01-01 to 2001-01-01.
pub fn expired_cert() -> String {
    self_signed_with_validity(
        "iamd expired",
        rcgen::date_time_ymd(2000, 1, 1),
        rcgen::date_time_ymd(2001, 1, 1),
    )
}

/// Valid only from a year from now.
pub fn not_yet_valid_cert() -> String {
    self_signed_with_validity(
        "iamd future",
        now() + Duration::days(365),
        now() + Duration::days(730),
    )
}

/// See [`SHA1_SIGNED_PEM`].
pub fn sha1_signed_cert() -> &'static str {
    SHA1_SIGNED_PEM
}

/// See [`RSA1024_PEM`].
pub fn rsa1024_cert() -> &'static str {
    RSA1024_PEM
}
