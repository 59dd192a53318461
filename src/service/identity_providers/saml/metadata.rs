//! The base64 `entity_descriptor` document: SAML 2.0 metadata read with quick-xml's
//! namespace-aware pull parser.
//!
//! Elements are matched by namespace and local name, never by prefix: `md:`, `saml2md:` and
//! a default namespace all work, and a same-named element of another namespace (an
//! extension, or `md:` rebound) is ignored. Nothing is expanded or fetched: a DOCTYPE is
//! refused outright (no external entities, no "billion laughs"), an entity reference is an
//! error unless it is one of the five predefined ones or a character reference, and the
//! document is bounded by `MAX_METADATA_BYTES`. quick-xml caps namespace bindings and hashes long
//! attribute lists, so the cost stays linear in the input (tests/fuzz.rs checks it).

use super::{check_entity_id, check_url, normalise_cert, MAX_CERTS};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, NamespaceError, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

/// The decoded XML may be at most this long; real IdP metadata is a few KiB to ~100 KiB.
pub const MAX_METADATA_BYTES: usize = 512 * 1024;
/// Namespace bindings in scope at once (quick-xml's default is 128); metadata uses a few.
const MAX_NAMESPACE_BINDINGS: usize = 64;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// What an identity provider's metadata says about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub entity_id: Option<String>,
    pub sso_endpoint: Option<String>,
    pub slo_endpoint: Option<String>,
    /// Normalised PEM.
    pub certs: Vec<String>,
}

/// Decodes a base64 metadata document and reads the identity provider's entity id, SSO/SLO
/// locations (HTTP-Redirect binding preferred) and signing certificates. The entity is the
/// first `EntityDescriptor` with an `IDPSSODescriptor` (else the first one: its id only).
/// Every value found is checked like its explicit field; the error is a message for the
/// field.
pub fn parse_entity_descriptor(b64: &str) -> Result<Metadata, String> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() / 4 * 3 > MAX_METADATA_BYTES + 2 {
        return Err(too_large());
    }
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| "Must be a base64-encoded XML document.".to_string())?;
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(too_large());
    }
    let xml = std::str::from_utf8(&bytes)
        .map_err(|_| "Must be a base64-encoded UTF-8 XML document.".to_string())?;
    let found = read(xml.trim_start_matches('\u{feff}'))?;
    let mut md = Metadata {
        entity_id: found.entity_id,
        sso_endpoint: preferred(&found.sso),
        slo_endpoint: preferred(&found.slo),
        certs: Vec::new(),
    };
    if found.certs.len() > MAX_CERTS {
        return Err(format!(
            "The metadata holds more than {MAX_CERTS} certificates."
        ));
    }
    for text in &found.certs {
        let cert = normalise_cert(text)
            .map_err(|e| format!("Certificate {} in the metadata: {e}", md.certs.len() + 1))?;
        if !md.certs.contains(&cert) {
            md.certs.push(cert);
        }
    }
    if let Some(id) = &md.entity_id {
        check_entity_id(id).map_err(|e| format!("entityID: {e}"))?;
    }
    for url in [&md.sso_endpoint, &md.slo_endpoint].into_iter().flatten() {
        check_url(url).map_err(|e| format!("Location '{}': {e}", truncate(url)))?;
    }
    Ok(md)
}

fn too_large() -> String {
    format!("Must be at most {} KiB of XML.", MAX_METADATA_BYTES / 1024)
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The first endpoint with the HTTP-Redirect binding, else the first one.
fn preferred(endpoints: &[(Option<String>, String)]) -> Option<String> {
    endpoints
        .iter()
        .find(|(binding, _)| binding.as_deref() == Some(HTTP_REDIRECT))
        .or(endpoints.first())
        .map(|(_, location)| location.clone())
}

/// The raw values of the chosen entity, before they are checked.
#[derive(Default)]
struct Found {
    entity_id: Option<String>,
    /// (Binding, Location) of each `SingleSignOnService`, in document order.
    sso: Vec<(Option<String>, String)>,
    slo: Vec<(Option<String>, String)>,
    /// Text of each signing `X509Certificate`.
    certs: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    Md,
    Ds,
    Other,
}

/// Where the reader is: the depth at which each element of interest was opened.
#[derive(Default)]
struct Cursor {
    depth: usize,
    /// The `EntityDescriptor` being read and its `entityID`.
    entity: Option<(usize, Option<String>)>,
    /// The first entity's id, for a document with no identity provider.
    first_entity: Option<Option<String>>,
    /// Inside the chosen `IDPSSODescriptor`; `done` once it closed.
    idp: Option<usize>,
    done: bool,
    /// Inside a `KeyDescriptor` of the IdP whose key is for signing.
    key: Option<usize>,
    /// Inside an `X509Certificate` of that key: its depth and text so far.
    cert: Option<(usize, String)>,
}

fn read(xml: &str) -> Result<Found, String> {
    let mut reader = NsReader::from_str(xml);
    // `<a/>` becomes `<a></a>`: one code path closes every element.
    reader.config_mut().expand_empty_elements = true;
    reader
        .resolver_mut()
        .set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
    let mut at = Cursor::default();
    let mut found = Found::default();
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| match e {
            quick_xml::Error::Namespace(NamespaceError::TooManyBindings(n)) => {
                malformed(&format!("more than {n} namespace declarations in scope"))
            }
            e => malformed(&e.to_string()),
        })?;
        let ns = match ns {
            ResolveResult::Bound(Namespace(MD)) => Ns::Md,
            ResolveResult::Bound(Namespace(DS)) => Ns::Ds,
            ResolveResult::Unknown(prefix) => {
                return Err(malformed(&format!("undeclared prefix `{prefix}`")))
            }
            _ => Ns::Other,
        };
        match event {
            Event::Start(e) => {
                at.depth += 1;
                if at.cert.is_some() {
                    return Err(malformed("an X509Certificate holds an element"));
                }
                start(&mut at, &mut found, ns, &e)?;
            }
            Event::End(_) => {
                if let Some((depth, text)) = at.cert.take() {
                    if depth == at.depth {
                        found.certs.push(text);
                    } else {
                        at.cert = Some((depth, text));
                    }
                }
                if at.key == Some(at.depth) {
                    at.key = None;
                }
                if at.idp == Some(at.depth) {
                    at.idp = None;
                    at.done = true;
                }
                if at.entity.as_ref().is_some_and(|(d, _)| *d == at.depth) {
                    at.entity = None;
                }
                at.depth -= 1;
            }
            Event::Text(t) => push_text(&mut at, &t.xml10_content()),
            Event::CData(t) => push_text(&mut at, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&r)
                        .ok_or_else(|| {
                            malformed(&format!("undeclared entity `&{};`", truncate(&r)))
                        })?
                        .to_string(),
                    Err(e) => return Err(malformed(&e.to_string())),
                };
                push_text(&mut at, &resolved);
            }
            Event::DocType(_) => {
                return Err("Must not contain a DOCTYPE: DTDs and entity declarations \
                            are refused."
                    .into())
            }
            Event::Eof if at.depth > 0 => return Err(malformed("an element is not closed")),
            Event::Eof => break,
            // Never produced with `expand_empty_elements`.
            Event::Empty(_) => {}
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !at.done {
        found.entity_id = at
            .first_entity
            .ok_or("Must contain a SAML EntityDescriptor element.")?;
    }
    Ok(found)
}

/// Notes an opening tag of interest.
fn start(at: &mut Cursor, found: &mut Found, ns: Ns, e: &BytesStart<'_>) -> Result<(), String> {
    let local = e.local_name();
    let in_idp = at.idp.is_some();
    match (ns, local.as_ref()) {
        (Ns::Md, "EntityDescriptor") if !at.done && at.entity.is_none() => {
            let id = attr(e, "entityID")?;
            at.first_entity.get_or_insert_with(|| id.clone());
            at.entity = Some((at.depth, id));
        }
        (Ns::Md, "IDPSSODescriptor") if !at.done && !in_idp => {
            if let Some((_, id)) = &at.entity {
                found.entity_id = id.clone();
                at.idp = Some(at.depth);
            }
        }
        // `use` absent means the key serves both purposes.
        (Ns::Md, "KeyDescriptor") if in_idp && at.key.is_none() => {
            let for_signing = attr(e, "use")?.is_none_or(|u| u == "signing");
            at.key = for_signing.then_some(at.depth);
        }
        (Ns::Ds, "X509Certificate") if at.key.is_some() => {
            at.cert = Some((at.depth, String::new()));
        }
        (Ns::Md, "SingleSignOnService") if in_idp => {
            if let Some(location) = attr(e, "Location")? {
                found.sso.push((attr(e, "Binding")?, location));
            }
        }
        (Ns::Md, "SingleLogoutService") if in_idp => {
            if let Some(location) = attr(e, "Location")? {
                found.slo.push((attr(e, "Binding")?, location));
            }
        }
        _ => {}
    }
    Ok(())
}

fn push_text(at: &mut Cursor, text: &str) {
    if let Some((_, cert)) = &mut at.cert {
        cert.push_str(text);
    }
}

/// The value of the unprefixed attribute `name` (unprefixed attributes are in no
/// namespace), with references resolved; an undeclared entity is an error. Every attribute
/// is read, so a duplicated one is an error wherever it stands.
fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    let mut value = None;
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(&err.to_string()))?;
        if a.key.0 == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| malformed(&err.to_string()))?;
            value = Some(v.into_owned());
        }
    }
    Ok(value)
}

/// The parser's messages may quote the input: keep them short.
fn malformed(detail: &str) -> String {
    let detail: String = detail.chars().take(160).collect();
    format!("Must be a well-formed XML document: {detail}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::identity_providers::saml::tests::cert_b64;

    fn metadata(cert_b64: &str) -> String {
        let xml = format!(
            r#"<?xml version="1.0"?>
<!-- <md:EntityDescriptor entityID="commented-out"> -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/x?a=1&amp;b=2">
  <md:SPSSODescriptor><md:SingleLogoutService Location="https://sp.example.com/slo"/></md:SPSSODescriptor>
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:X509Data><ds:X509Certificate>
{cert_b64}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/slo-post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso-post"/>
    <md:SingleSignOnService Binding='urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect' Location='https://idp.example.com/sso?x=">"'/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        );
        STANDARD.encode(xml)
    }

    #[test]
    fn reads_the_identity_provider_part_of_metadata() {
        let (pem, body) = cert_b64();
        let md = parse_entity_descriptor(&metadata(&body)).unwrap();
        assert_eq!(
            md.entity_id.as_deref(),
            Some("https://idp.example.com/x?a=1&b=2")
        );
        assert_eq!(
            md.sso_endpoint.as_deref(),
            Some("https://idp.example.com/sso?x=\">\"")
        );
        assert_eq!(
            md.slo_endpoint.as_deref(),
            Some("https://idp.example.com/slo-post")
        );
        assert_eq!(md.certs, vec![pem]);
    }

    #[test]
    fn refuses_bad_metadata() {
        assert!(parse_entity_descriptor("not base64!").is_err());
        assert!(parse_entity_descriptor(&STANDARD.encode("<a/>")).is_err());
        assert!(parse_entity_descriptor(&metadata("AAAA")).is_err());
        let no_idp = STANDARD.encode(format!(r#"<EntityDescriptor xmlns="{MD}" entityID="e"/>"#));
        let md = parse_entity_descriptor(&no_idp).unwrap();
        assert_eq!(md.entity_id.as_deref(), Some("e"));
        assert!(md.certs.is_empty());
    }

    const SIGNING_CERT_2: &str = "sp2";

    fn other_cert_body() -> String {
        let pem = crate::pki::generate_sp_certificate(SIGNING_CERT_2, 30, crate::pki::SpKey::P256)
            .unwrap();
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn encode(xml: &str) -> String {
        STANDARD.encode(xml)
    }

    /// ADFS-style metadata: default namespaces only, `&#13;` character references inside
    /// the certificate text, a WS-Federation role before the SAML one, and an encryption key.
    #[test]
    fn default_namespaces_and_character_references() {
        let (pem, body) = cert_b64();
        let body = body.replace('\n', "&#13;\n");
        let other = other_cert_body();
        let xml = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_1" entityID="http://adfs.example.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
 <RoleDescriptor xsi:type="fed:SecurityTokenServiceType" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
  <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{other}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
 </RoleDescriptor>
 <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{other}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/>
  <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/>
 </IDPSSODescriptor>
</EntityDescriptor>"#
        );
        let md = parse_entity_descriptor(&encode(&xml)).unwrap();
        assert_eq!(
            md.entity_id.as_deref(),
            Some("http://adfs.example.com/adfs/services/trust")
        );
        assert_eq!(
            md.sso_endpoint.as_deref(),
            Some("https://adfs.example.com/adfs/ls/")
        );
        // Only the IdP role's signing key: not the WS-Fed role's, not the encryption key.
        assert_eq!(md.certs, vec![pem]);
    }

    /// Prefixes other than `md`/`ds`, a prefix rebound to another namespace, same-named
    /// elements of a foreign namespace, and a comment and CDATA inside the certificate.
    #[test]
    fn unusual_prefixes_and_foreign_elements() {
        let (pem, body) = cert_b64();
        let xml = format!(
            r#"<saml2md:EntitiesDescriptor xmlns:saml2md="urn:oasis:names:tc:SAML:2.0:metadata">
<saml2md:EntityDescriptor entityID="urn:sp-only"><saml2md:SPSSODescriptor/></saml2md:EntityDescriptor>
<saml2md:EntityDescriptor entityID="urn:idp" xmlns:x="urn:example:other">
 <saml2md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <saml2md:Extensions>
   <x:SingleSignOnService Location="https://wrong.example.com/sso"/>
   <x:X509Certificate>AAAA</x:X509Certificate>
  </saml2md:Extensions>
  <saml2md:KeyDescriptor><dsig:KeyInfo xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"><dsig:X509Data>
   <dsig:X509Certificate><!-- the IdP's key -->
<![CDATA[{body}]]></dsig:X509Certificate>
  </dsig:X509Data></dsig:KeyInfo></saml2md:KeyDescriptor>
  <md:SingleLogoutService xmlns:md="urn:example:not-saml" Location="https://wrong.example.com/slo"/>
  <saml2md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>
 </saml2md:IDPSSODescriptor>
</saml2md:EntityDescriptor>
</saml2md:EntitiesDescriptor>"#
        );
        let md = parse_entity_descriptor(&encode(&xml)).unwrap();
        assert_eq!(md.entity_id.as_deref(), Some("urn:idp"));
        assert_eq!(
            md.sso_endpoint.as_deref(),
            Some("https://idp.example.com/sso")
        );
        assert_eq!(md.slo_endpoint, None);
        assert_eq!(md.certs, vec![pem]);
    }

    #[test]
    fn names_outside_the_saml_namespace_are_not_metadata() {
        for xml in [
            r#"<EntityDescriptor entityID="e"/>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:example:not-saml" entityID="e"/>"#,
        ] {
            let err = parse_entity_descriptor(&encode(xml)).unwrap_err();
            assert!(err.contains("EntityDescriptor"), "{xml}: {err}");
        }
    }

    /// No DTD is read and no entity is expanded: XXE and "billion laughs" are refused, as
    /// are documents that are not well-formed or too large.
    #[test]
    fn hostile_and_malformed_documents_are_refused() {
        const MD: &str = r#"xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata""#;
        let laughs = format!(
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<md:EntityDescriptor {MD} entityID="&lol2;"/>"#
        );
        let xxe = format!(
            r#"<!DOCTYPE md:EntityDescriptor [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor {MD} entityID="&e;"/>"#
        );
        let cases = [
            (laughs, "DOCTYPE"),
            (xxe, "DOCTYPE"),
            (
                format!(r#"<md:EntityDescriptor {MD} entityID="a&undeclared;b"/>"#),
                "XML",
            ),
            (
                format!(r#"<md:EntityDescriptor {MD} entityID="e"><x:y/></md:EntityDescriptor>"#),
                "XML",
            ),
            (
                format!(r#"<md:EntityDescriptor {MD} entityID="e"></md:Other>"#),
                "XML",
            ),
            (
                format!(r#"<md:EntityDescriptor {MD} entityID="e"><md:IDPSSODescriptor>"#),
                "XML",
            ),
            (
                format!(r#"<md:EntityDescriptor {MD} entityID="e" entityID="f"/>"#),
                "XML",
            ),
            (
                format!(
                    r#"<md:EntityDescriptor {MD} entityID="e"><!--{}--></md:EntityDescriptor>"#,
                    "x".repeat(MAX_METADATA_BYTES)
                ),
                "at most",
            ),
        ];
        for (xml, says) in cases {
            let err = parse_entity_descriptor(&encode(&xml)).unwrap_err();
            assert!(err.contains(says), "{}: {err}", truncate(&xml));
        }
    }
}
