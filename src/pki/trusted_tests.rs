use super::super::testcerts;
use super::*;
use time::Duration;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn parse(pem: &str) -> Result<ParsedCert, CertError> {
    parse_trusted_chain(pem, now())
}

#[test]
fn valid_chain_is_accepted_with_leaf_details() {
    let chain = testcerts::valid_chain();
    let parsed = parse(&chain.chain_pem).unwrap();
    assert_eq!(parsed.subject, "CN=iamd test leaf,O=iamd tests");
    assert_eq!(parsed.issuer, "CN=iamd test CA,O=iamd tests");
    assert_eq!(parsed.subject_cn.as_deref(), Some("iamd test leaf"));
    assert_eq!(parsed.subject_ou, None);
    assert!(!parsed.is_self_signed);
    assert_eq!(parsed.chain_len, 2);
    assert_eq!(parsed.leaf_der, chain.leaf_der);
    let digest = ring::digest::digest(&ring::digest::SHA256, &chain.leaf_der);
    assert_eq!(
        parsed.fingerprint_sha256_hex,
        super::super::encoding::lower_hex(digest.as_ref())
    );
    assert_eq!(parsed.fingerprint_sha256_hex.len(), 64);
    assert!(parsed.not_before < now() && now() < parsed.not_after);
    assert_eq!(parsed.pem, format!("{}{}", chain.leaf_pem, chain.ca_pem));
}

#[test]
fn root_first_upload_is_reordered_leaf_first() {
    let chain = testcerts::valid_chain();
    let parsed = parse(&format!("{}{}", chain.ca_pem, chain.leaf_pem)).unwrap();
    assert_eq!(parsed.leaf_der, chain.leaf_der);
    assert!(parsed.pem.starts_with(&chain.leaf_pem));
}

#[test]
fn lone_self_signed_certificate_is_accepted() {
    let parsed = parse(&testcerts::self_signed("solo")).unwrap();
    assert!(parsed.is_self_signed);
    assert_eq!(parsed.subject, parsed.issuer);
    assert_eq!(parsed.chain_len, 1);
}

#[test]
fn lone_leaf_without_its_ca_is_accepted_but_not_self_signed() {
    let chain = testcerts::valid_chain();
    let parsed = parse(&chain.leaf_pem).unwrap();
    assert!(!parsed.is_self_signed);
}

#[test]
fn rsa_2048_is_accepted_and_matches_openssl() {
    let parsed = parse(testcerts::RSA2048_PEM).unwrap();
    assert_eq!(parsed.subject, "O=iamd tests,OU=acct123,CN=rsa2048 test");
    assert_eq!(parsed.subject_ou.as_deref(), Some("acct123"));
    assert!(parsed.is_self_signed);
    // `openssl x509 -noout -fingerprint -sha256`
    assert_eq!(
        parsed.fingerprint_sha256_hex,
        "9fd957fdc21b69733096bb5e2882abcaab0e8afcf3f4169c64fe0c7d89dc18b1"
    );
}

#[test]
fn sloppy_whitespace_and_escaped_newlines_normalize_to_the_same_pem() {
    let clean = testcerts::valid_chain().chain_pem;
    let want = parse(&clean).unwrap();
    let crlf = clean.replace('\n', "\r\n");
    let indented: String = clean.lines().map(|l| format!("   {l}  \n\n")).collect();
    let escaped = clean.replace('\n', "\\n");
    for variant in [
        crlf,
        indented,
        escaped,
        format!("junk before\n{clean}junk after"),
    ] {
        assert_eq!(parse(&variant).unwrap(), want, "{variant}");
    }
    assert_eq!(want.pem, clean);
}

#[test]
fn garbage_is_not_pem() {
    for text in [
        "",
        "   ",
        "hello world",
        "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUA",
    ] {
        assert_eq!(parse(text), Err(CertError::NotPem), "{text:?}");
    }
}

#[test]
fn damaged_pem_is_rejected() {
    let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
    assert_eq!(parse(bad_b64), Err(CertError::BadPem { position: 1 }));
    let unterminated = "-----BEGIN CERTIFICATE-----\nMIIB\n";
    assert_eq!(parse(unterminated), Err(CertError::BadPem { position: 1 }));
}

#[test]
fn pem_that_is_not_x509_is_rejected() {
    let not_cert = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    assert_eq!(parse(not_cert), Err(CertError::NotX509 { position: 1 }));
    let chain = testcerts::valid_chain();
    let mut padded = chain.leaf_der.clone();
    padded.extend_from_slice(&[0, 0]);
    let trailing = pem_encode("CERTIFICATE", &padded);
    assert_eq!(parse(&trailing), Err(CertError::NotX509 { position: 1 }));
}

#[test]
fn private_keys_are_refused_not_stored() {
    let dev = super::super::DeveloperCert::generate("acct", "ep").unwrap();
    let both = format!("{}{}", dev.cert_pem, dev.private_key_pem);
    assert_eq!(
        parse(&both),
        Err(CertError::NotACertificateBlock {
            position: 2,
            label: "PRIVATE KEY".into()
        })
    );
}

#[test]
fn expired_is_rejected() {
    let err = parse(&testcerts::expired_cert()).unwrap_err();
    assert_eq!(
        err,
        CertError::Expired {
            position: 1,
            not_after: "2001-01-01T00:00:00Z".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "Certificate 1 expired at 2001-01-01T00:00:00Z."
    );
}

#[test]
fn validity_is_judged_at_the_given_time() {
    let chain = testcerts::valid_chain().chain_pem;
    let later = now() + Duration::days(400);
    assert!(matches!(
        parse_trusted_chain(&chain, later),
        Err(CertError::Expired { position: 1, .. })
    ));
}

#[test]
fn not_yet_valid_is_rejected() {
    assert!(matches!(
        parse(&testcerts::not_yet_valid_cert()),
        Err(CertError::NotYetValid { position: 1, .. })
    ));
}

#[test]
fn sha1_and_md5_signatures_are_rejected() {
    let sha1 = CertError::WeakSignature {
        position: 1,
        algorithm: "SHA-1 with RSA",
    };
    assert_eq!(parse(testcerts::sha1_signed_cert()), Err(sha1));
    let md5 = CertError::WeakSignature {
        position: 1,
        algorithm: "MD5 with RSA",
    };
    assert_eq!(parse(testcerts::MD5_SIGNED_PEM), Err(md5));
}

#[test]
fn sha1_anywhere_in_the_chain_is_rejected() {
    assert_eq!(
        parse(testcerts::SHA1_ROOT_CHAIN_PEM),
        Err(CertError::WeakSignature {
            position: 2,
            algorithm: "SHA-1 with RSA"
        })
    );
}

#[test]
fn small_rsa_keys_are_rejected() {
    let err = parse(testcerts::rsa1024_cert()).unwrap_err();
    assert_eq!(
        err,
        CertError::WeakRsaKey {
            position: 1,
            bits: 1024
        }
    );
    assert!(err.to_string().contains("at least 2048 bits"), "{err}");
}

#[test]
fn leaf_not_signed_by_the_next_certificate_is_rejected() {
    assert_eq!(
        parse(&testcerts::broken_chain()),
        Err(CertError::BadSignature { position: 1 })
    );
}

#[test]
fn issuer_name_must_match_the_next_subject() {
    assert_eq!(
        parse(&testcerts::unrelated_ca_chain()),
        Err(CertError::IssuerMismatch { position: 1 })
    );
}

#[test]
fn overlong_chains_are_rejected() {
    let one = testcerts::self_signed("x");
    let many = one.repeat(MAX_CHAIN_LEN + 2);
    assert_eq!(
        parse(&many),
        Err(CertError::ChainTooLong(MAX_CHAIN_LEN + 2))
    );
}

#[test]
fn modulus_bits_counts_significant_bits() {
    assert_eq!(modulus_bits(&[]), 0);
    assert_eq!(modulus_bits(&[0, 0]), 0);
    let mut m = vec![0u8; 257];
    m[1] = 0x80;
    assert_eq!(modulus_bits(&m), 2048);
    m[1] = 0x7f;
    assert_eq!(modulus_bits(&m), 2047);
    assert_eq!(modulus_bits(&m[1..]), 2047);
}

#[test]
fn errors_name_the_certificate_field_and_read_as_sentences() {
    assert_eq!(CertError::FIELD, "certificate");
    let msg = CertError::BadSignature { position: 1 }.to_string();
    assert_eq!(
        msg,
        "Certificate chain is broken: the signature of certificate 1 does not verify with the key of certificate 2."
    );
}
