//! Property-based fuzzing of every parser that takes untrusted bytes: list/filter query
//! strings, API key text, JSON bodies, PEM/X.509 uploads, PNG/JPEG uploads and SAML metadata.
//!
//! Each property feeds both arbitrary input and mutations of valid input (so the parsers get
//! past their first checks) and asserts: no panic, and every call returns within
//! `CALL_BUDGET`. CI runs `DEFAULT_CASES` cases per property; set `IAMD_FUZZ_CASES` (e.g.
//! `IAMD_FUZZ_CASES=100000 cargo test --release --test fuzz`) for a long run.

use iamd::api::list::{FilterSpec, ListQuery, EQ, EQ_IN_NIN, EQ_NEQ, LIKE};
use iamd::auth::apikey;
use iamd::branding::{default_image, sniff_image, ImageKind, Theme};
use iamd::ids::Id;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DEFAULT_CASES: u32 = 256;

/// Generous for a debug build on a loaded 2-core machine; a parser that loops or goes
/// quadratic on hostile input blows far past it.
const CALL_BUDGET: Duration = Duration::from_secs(2);

fn config() -> Config {
    let cases = std::env::var("IAMD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        // Failures are reported with their minimal input; no regression files in the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// Runs `f`, failing the property if it takes longer than `CALL_BUDGET`.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < CALL_BUDGET, "{what} took {took:?}");
    out
}

/// Byte-level mutations of a valid sample: overwrite, insert, delete, truncate.
fn mutate(sample: &[u8], edits: &[(u8, usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = sample.to_vec();
    for &(kind, at, byte) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let at = at % out.len();
        match kind % 3 {
            0 => out[at] = byte,
            1 => out.insert(at, byte),
            _ => {
                out.remove(at);
            }
        }
    }
    if let Some(cut) = cut {
        let len = out.len();
        out.truncate(cut % (len + 1));
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
    prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..12)
}

// ---- list / filter query strings -------------------------------------------------------

/// The users list's `x-filter`, as an example of a real operation's filters.
const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "email",
        ops: EQ,
    },
    FilterSpec {
        field: "status",
        ops: EQ_IN_NIN,
    },
    FilterSpec {
        field: "login_profiles",
        ops: EQ,
    },
    FilterSpec {
        field: "name",
        ops: EQ_NEQ,
    },
    FilterSpec {
        field: "description",
        ops: LIKE,
    },
];

/// One `name=value` pair built from names and values a list query really uses, plus noise.
fn query_pair() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("limit".to_string()),
        Just("after".to_string()),
        Just("order".to_string()),
        Just("include".to_string()),
        Just("email__eq".to_string()),
        Just("status__in".to_string()),
        Just("status__nin".to_string()),
        Just("name__neq".to_string()),
        Just("description__like".to_string()),
        Just("status__like".to_string()),
        Just("nope__eq".to_string()),
        Just("__".to_string()),
        "[a-z_]{0,12}(__[a-z]{0,5})?",
        "\\PC{0,12}",
    ];
    let value = prop_oneof![
        Just(Id::new().hex()),
        Just("ASC".to_string()),
        Just("desc".to_string()),
        Just("total_count,other".to_string()),
        "[0-9]{0,25}",
        "-?[0-9]{1,4}",
        "[A-Za-z0-9,%+&=]{0,40}",
        "\\PC{0,40}",
        "(%[0-9A-Fa-f]{0,2}){0,6}",
    ];
    (name, value).prop_map(|(n, v)| format!("{n}={v}"))
}

fn query_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(query_pair(), 0..8).prop_map(|p| p.join("&")),
        "\\PC{0,200}",
        ".{0,200}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn list_query_never_panics(query in query_string(), default_limit in 2usize..=1000) {
        let parsed = timed("ListQuery::parse_query", || {
            ListQuery::parse_query(&query, default_limit, FILTERS)
        });
        if let Ok(q) = parsed {
            // Whatever got through respects the documented bounds.
            prop_assert!((2..=1000).contains(&q.page.limit));
            for f in &q.filters {
                prop_assert!(!f.values.is_empty());
                prop_assert!(FILTERS.iter().any(|s| s.field == f.field && s.ops.contains(&f.op)));
            }
            // A filter must evaluate without panicking on any record values.
            for f in &q.filters {
                let _ = f.accepts(&[f.field.to_string(), query.clone()]);
            }
        }
    }
}

// ---- API key text -------------------------------------------------------------------------

/// One key for the whole run, so a failing case replays and shrinks.
fn valid_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| apikey::issue(&Id::new(), &Id::new()).full)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn apikey_parse_never_panics(text in "\\PC{0,200}") {
        timed("apikey::parse", || apikey::parse(&text));
    }

    #[test]
    fn apikey_parse_mutated(edits in edits(), cut in prop::option::of(any::<usize>())) {
        let key = valid_key();
        let bytes = mutate(key.as_bytes(), &edits, cut);
        // Mutations may break UTF-8; the server only ever sees header values as &str.
        let text = String::from_utf8_lossy(&bytes);
        let parsed = timed("apikey::parse", || apikey::parse(&text));
        if text == key {
            prop_assert!(parsed.is_some());
        }
        if let Some((account, key_id)) = parsed {
            // Whatever parses names ids whose canonical public part parses back to them
            // (hex may come in either case, so the text itself need not be canonical).
            let public = apikey::public_part(&account, &key_id);
            prop_assert_eq!(apikey::parse(&public), Some((account, key_id)));
        }
    }
}

// ---- JSON bodies ------------------------------------------------------------------------

const BODY_SAMPLES: &[&str] = &[
    r#"{"email":"a@example.com","username":"alice","full_name":null,"groups":["0123456789abcdef0123456789abcdef"],"login_profiles":[{"id":"x"}],"custom_fields":{"k":"v"},"is_gtc_accepted":true}"#,
    r#"{"name":"key","owner":null,"status":"ACTIVE","groups":[]}"#,
    r#"{"display_name":"x","password_policy":{"minimum_length":8},"custom_fields":{},"notification_emails":["a@b.c"],"idle_timeout":30}"#,
    r#"[1, 2.5e308, -0, "\ud800", {"a": [[[[[]]]]]}]"#,
];

fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,300}".prop_map(String::into_bytes),
        (
            0..BODY_SAMPLES.len(),
            edits(),
            prop::option::of(any::<usize>())
        )
            .prop_map(|(i, e, cut)| mutate(BODY_SAMPLES[i].as_bytes(), &e, cut)),
        // Deep nesting: serde_json's recursion limit must turn it into an error, not a crash.
        (1usize..5000).prop_map(|depth| {
            let mut v = "[".repeat(depth).into_bytes();
            v.extend(std::iter::repeat_n(b']', depth));
            v
        }),
    ]
}

fn parse_all(bytes: &[u8]) {
    use iamd::api::body::parse;
    let _ = parse::<iamd::service::users::UserCreate>(bytes);
    let _ = parse::<iamd::service::users::UserUpdate>(bytes);
    let _ = parse::<iamd::service::apikeys::ApiKeyCreate>(bytes);
    let _ = parse::<iamd::service::apikeys::ApiKeyUpdate>(bytes);
    let _ = parse::<iamd::service::accounts::AccountUpdate>(bytes);
    let _ = parse::<serde_json::Value>(bytes);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_body_never_panics(bytes in json_bytes()) {
        timed("body::parse", || parse_all(&bytes));
    }
}

// ---- PEM / X.509 ------------------------------------------------------------------------

fn chains() -> &'static [String] {
    static CHAINS: OnceLock<Vec<String>> = OnceLock::new();
    CHAINS.get_or_init(|| {
        use iamd::pki::testcerts;
        let valid = testcerts::valid_chain();
        vec![
            valid.chain_pem.clone(),
            valid.leaf_pem.clone(),
            format!("{}{}", valid.ca_pem, valid.leaf_pem),
            testcerts::broken_chain(),
            testcerts::self_signed("fuzz"),
            testcerts::sha1_signed_cert().to_string(),
            testcerts::rsa1024_cert().to_string(),
        ]
    })
}

fn pem_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,400}",
        "(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]{0,300}\n-----END CERTIFICATE-----\n){0,3}",
        (0usize..7, edits(), prop::option::of(any::<usize>())).prop_map(|(i, e, cut)| {
            let chain = &chains()[i];
            String::from_utf8_lossy(&mutate(chain.as_bytes(), &e, cut)).into_owned()
        }),
        // Damage inside the DER (decode, flip bytes, re-encode): reaches the X.509 parser.
        (0usize..7, edits()).prop_map(|(i, e)| reencoded_with(&chains()[i], &e)),
    ]
}

/// The first certificate of `pem` with its DER mutated, re-armoured.
fn reencoded_with(pem: &str, edits: &[(u8, usize, u8)]) -> String {
    use base64::Engine;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_default();
    let der = mutate(&der, edits, None);
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pem_intake_never_panics(text in pem_text()) {
        let now = time::OffsetDateTime::now_utc();
        timed("parse_trusted_chain", || iamd::pki::parse_trusted_chain(&text, now)).ok();
    }
}

#[test]
fn pem_intake_accepts_the_valid_sample() {
    let now = time::OffsetDateTime::now_utc();
    assert!(iamd::pki::parse_trusted_chain(&chains()[0], now).is_ok());
}

// ---- PNG / JPEG -------------------------------------------------------------------------

fn image_samples() -> Vec<Vec<u8>> {
    vec![
        default_image(Theme::Light).0.to_vec(),
        default_image(Theme::Dark).0.to_vec(),
        // A minimal JPEG header sequence (SOI, APP0, SOF0, SOS, EOI).
        vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0,
            0, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF,
            0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xFF, 0xD9,
        ],
    ]
}

fn image_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        // Right magic, random rest.
        prop::collection::vec(any::<u8>(), 0..600).prop_map(|mut v| {
            let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
            out.append(&mut v);
            out
        }),
        prop::collection::vec(any::<u8>(), 0..600).prop_map(|mut v| {
            let mut out = vec![0xFF, 0xD8, 0xFF];
            out.append(&mut v);
            out
        }),
        (0usize..3, edits(), prop::option::of(any::<usize>())).prop_map(|(i, e, cut)| mutate(
            &image_samples()[i],
            &e,
            cut
        )),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn image_intake_never_panics(bytes in image_bytes(), declared in 0usize..3, limit in 0usize..1_000_000) {
        let declared = [None, Some(ImageKind::Png), Some(ImageKind::Jpeg)][declared];
        let result = timed("sniff_image", || sniff_image(&bytes, declared, limit));
        if bytes.len() > limit {
            prop_assert!(result.is_err());
        }
    }
}

// ---- SAML metadata ----------------------------------------------------------------------

const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Valid metadata in the three namespace styles (prefixed, default, unusual prefixes) and
/// one with a DTD, so mutations start from documents that reach every branch.
fn metadata_samples() -> &'static [String] {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let cert: String = iamd::pki::generate_sp_certificate("fuzz", 30, iamd::pki::SpKey::P256)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let sso = |p: &str| {
            format!(
                r#"<{p}SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso?a=1&amp;b=2"/>
<{p}SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/slo"/>"#
            )
        };
        vec![
            format!(
                r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="{MD_NS}" entityID="https://idp.example.com/">
<md:IDPSSODescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{DS_NS}"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
{}</md:IDPSSODescriptor></md:EntityDescriptor>"#,
                sso("md:")
            ),
            format!(
                r#"<EntityDescriptor xmlns="{MD_NS}" entityID="urn:e"><!-- c --><IDPSSODescriptor><KeyDescriptor><KeyInfo xmlns="{DS_NS}"><X509Data><X509Certificate>&#13;
<![CDATA[{cert}]]></X509Certificate></X509Data></KeyInfo></KeyDescriptor>{}</IDPSSODescriptor></EntityDescriptor>"#,
                sso("")
            ),
            format!(
                r#"<s:EntitiesDescriptor xmlns:s="{MD_NS}"><s:EntityDescriptor entityID="a"/><s:EntityDescriptor entityID="b" xmlns:x="urn:x"><s:IDPSSODescriptor><x:SingleSignOnService Location="https://x/"/>{}</s:IDPSSODescriptor></s:EntityDescriptor></s:EntitiesDescriptor>"#,
                sso("s:")
            ),
            format!(
                r#"<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><md:EntityDescriptor xmlns:md="{MD_NS}" entityID="&b;"/>"#
            ),
        ]
    })
}

/// Pieces of markup that the parser treats specially, strung together at random.
fn markup_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(format!(
            r#"<md:EntityDescriptor xmlns:md="{MD_NS}" entityID="e">"#
        )),
        Just("</md:EntityDescriptor>".to_string()),
        Just(format!(r#"<IDPSSODescriptor xmlns="{MD_NS}">"#)),
        Just("</IDPSSODescriptor>".to_string()),
        Just(r#"<md:KeyDescriptor use="signing">"#.to_string()),
        Just(format!(r#"<X509Certificate xmlns="{DS_NS}">"#)),
        Just("</X509Certificate>".to_string()),
        Just(r#"<md:SingleSignOnService Location="https://h/" Binding="b"/>"#.to_string()),
        Just("&#13;".to_string()),
        Just("&#x0;".to_string()),
        Just("&lt;&amp;".to_string()),
        Just("&undeclared;".to_string()),
        Just("<!DOCTYPE x>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("<?pi x?>".to_string()),
        Just(r#"<p:x xmlns:p="">"#.to_string()),
        Just("<a b='1' b='2'>".to_string()),
        "[A-Za-z0-9+/=<>&;:\"' ]{0,20}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

fn metadata_xml() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        "\\PC{0,400}".prop_map(String::into_bytes),
        markup_soup().prop_map(String::into_bytes),
        (0usize..4, edits(), prop::option::of(any::<usize>())).prop_map(|(i, e, cut)| mutate(
            metadata_samples()[i].as_bytes(),
            &e,
            cut
        )),
    ]
}

fn parse_metadata(xml: &[u8]) -> Result<iamd::service::identity_providers::saml::Metadata, String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
    timed("parse_entity_descriptor", || {
        iamd::service::identity_providers::saml::parse_entity_descriptor(&b64)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn saml_metadata_never_panics(xml in metadata_xml()) {
        if let Ok(md) = parse_metadata(&xml) {
            prop_assert!(md.certs.len() <= iamd::service::identity_providers::saml::MAX_CERTS);
            prop_assert!(md.certs.iter().all(|c| c.starts_with("-----BEGIN CERTIFICATE-----\n")));
        }
    }
}

#[test]
fn saml_metadata_samples_parse() {
    let samples = metadata_samples();
    for sample in &samples[..3] {
        let md = parse_metadata(sample.as_bytes()).unwrap();
        assert!(md.sso_endpoint.is_some(), "{sample}");
    }
    assert!(parse_metadata(samples[3].as_bytes()).is_err());
}

/// The shapes that make XML parsers quadratic or deep, each as large as the size cap allows.
#[test]
fn saml_metadata_worst_cases_stay_within_budget() {
    use iamd::service::identity_providers::saml::MAX_METADATA_BYTES;
    let n = MAX_METADATA_BYTES / 16;
    let open = format!(r#"<md:EntityDescriptor xmlns:md="{MD_NS}" entityID="e""#);
    let cases = [
        // One element with tens of thousands of attributes (duplicate checks).
        format!(
            "{open}{}/>",
            (0..n).map(|i| format!(" a{i}=\"\"")).collect::<String>()
        ),
        // As many namespace bindings as fit, then many elements to resolve against them.
        format!(
            "{open}{}>{}</md:EntityDescriptor>",
            (0..n / 2).map(|i| format!(" xmlns:p{i}=\"u\"")).collect::<String>(),
            "<md:x/>".repeat(n / 4)
        ),
        // Deep nesting, just inside quick-xml's depth limit (65,535).
        format!("{open}>{}", "<md:x>".repeat(60_000)),
        // Long certificate text made of character references.
        format!(
            "{open}><md:IDPSSODescriptor><md:KeyDescriptor><ds:X509Certificate xmlns:ds=\"{DS_NS}\">{}</ds:X509Certificate></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>",
            "&#65;".repeat(n * 3)
        ),
        // Many endpoints.
        format!(
            "{open}><md:IDPSSODescriptor>{}</md:IDPSSODescriptor></md:EntityDescriptor>",
            r#"<md:SingleSignOnService Location="https://h/"/>"#.repeat(n / 4)
        ),
    ];
    for xml in cases {
        assert!(xml.len() <= MAX_METADATA_BYTES + 64, "{}", xml.len());
        let _ = parse_metadata(xml.as_bytes());
    }
}
