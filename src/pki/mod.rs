//! Certificate material for iamd: the server CAs, developer certificates, the
//! `mbed_cloud_dev_credentials.c` file, uploaded trusted-certificate intake and
//! the SAML SP certificate.
//!
//! Everything here is a pure function over bytes: storage and HTTP live elsewhere,
//! so this module can be tested without a server and swapped storage engines never
//! see key handling.

// In the main crate (a binary) every pub item it does not call yet is dead code,
// and `testcerts` is only called from tests. Test builds keep both lints on, so
// anything no test or caller uses is still reported.

mod ca;
mod developer;
mod dn;
mod encoding;
mod saml;
mod security_c;
pub mod testcerts;
mod trusted;

pub use self::ca::ServerCa;
pub use self::developer::DeveloperCert;
pub use self::encoding::{lower_hex, pem_encode, sha256_hex};
pub use self::saml::{generate_sp_certificate, SpKey};
pub use self::security_c::{render_security_c, SecurityFileInput};
pub use self::trusted::{parse_trusted_chain, CertError, ParsedCert, MAX_CHAIN_LEN};

/// Failure while *making* certificate material (as opposed to [`CertError`], which
/// describes a bad upload). These are server faults, never the client's.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("stored CA material is corrupt: {0}")]
    CorruptStorage(&'static str),
    #[error("requested validity is out of range")]
    ValidityOutOfRange,
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
}

/// `t` moved `years` calendar years on; 29 February lands on 28 February so
/// "ten years from today" never fails on a leap day.
pub(crate) fn years_after(t: time::OffsetDateTime, years: i32) -> time::OffsetDateTime {
    let year = t.year() + years;
    t.replace_year(year)
        .or_else(|_| t.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(t + time::Duration::days(365 * i64::from(years)))
}

/// rcgen's defaults carry a placeholder subject ("rcgen self signed cert") and a
/// 1975..4096 validity; every certificate we make starts from this instead so
/// neither can leak into issued material.
pub(crate) fn base_params(
    subject: rcgen::DistinguishedName,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject;
    params.not_before = not_before;
    params.not_after = not_after;
    params
}

/// The developer-certificate flow end to end, through the re-exports the main
/// crate uses (so a missing re-export fails here, not in the integration).
#[cfg(test)]
mod tests {
    use super::{
        generate_sp_certificate, parse_trusted_chain, render_security_c, testcerts, CertError,
        DeveloperCert, ParsedCert, SecurityFileInput, ServerCa, MAX_CHAIN_LEN,
    };

    #[test]
    fn developer_certificate_flow_through_the_public_api() {
        let now = time::OffsetDateTime::now_utc();
        let bootstrap = ServerCa::from_storage_bytes(
            &ServerCa::generate("Bootstrap CA")
                .unwrap()
                .to_storage_bytes(),
        )
        .unwrap();
        let lwm2m = ServerCa::generate("LwM2M CA").unwrap();
        let dev = DeveloperCert::generate("acct", "endpoint").unwrap();
        let recorded: ParsedCert = parse_trusted_chain(&dev.cert_pem, now).unwrap();
        assert_eq!(recorded.subject, "CN=endpoint,OU=acct");
        let c = render_security_c(&SecurityFileInput {
            endpoint_name: "endpoint",
            account_id: "acct",
            bootstrap_server_uri: "coaps://bootstrap.example:5684?aid=acct",
            device_cert_der: &dev.cert_der,
            bootstrap_ca_der: bootstrap.cert_der(),
            lwm2m_ca_der: lwm2m.cert_der(),
            device_private_key_der: &dev.private_key_der,
        });
        assert!(c.contains("MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE_SIZE"));
        assert!(parse_trusted_chain(
            &generate_sp_certificate("sp", 30, super::SpKey::P256).unwrap(),
            now
        )
        .is_ok());
        assert!(
            parse_trusted_chain(&bootstrap.cert_pem(), now)
                .unwrap()
                .is_self_signed
        );
    }

    #[test]
    fn test_chain_parts_agree() {
        let chain = testcerts::valid_chain();
        let ca = parse_trusted_chain(&chain.ca_pem, time::OffsetDateTime::now_utc()).unwrap();
        assert_eq!(ca.leaf_der, chain.ca_der);
        let err = CertError::ChainTooLong(MAX_CHAIN_LEN + 1);
        assert!(err.to_string().contains("at most 10"), "{err}");
    }
}
