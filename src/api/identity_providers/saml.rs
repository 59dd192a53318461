//! SAML2 input checks: identity-provider certificates and the base64 `entity_descriptor`
//! metadata document.
//!
//! The metadata is never handed to an XML parser: a small scanner reads start tags and
//! text, skipping comments, CDATA, processing instructions and DOCTYPE declarations, and
//! expands nothing (no entities, no external references), so a hostile document can cost
//! only a linear pass over bytes the body-size limit already bounds.

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
    Ok(pem(&der))
}

/// PEM with 64-column base64 and `\n` line ends.
pub fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// What an identity provider's metadata says about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub entity_id: Option<String>,
    pub sso_endpoint: Option<String>,
    pub slo_endpoint: Option<String>,
    /// Normalised PEM.
    pub certs: Vec<String>,
}

/// Decodes a base64 `EntityDescriptor` document and reads the identity provider's entity
/// id, SSO/SLO locations (HTTP-Redirect binding preferred) and certificates. Every value
/// found is checked like its explicit field; the error is a message for the field.
pub fn parse_entity_descriptor(b64: &str) -> Result<Metadata, String> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| "Must be a base64-encoded XML document.".to_string())?;
    let xml = std::str::from_utf8(&bytes)
        .map_err(|_| "Must be a base64-encoded UTF-8 XML document.".to_string())?;
    let xml = xml.trim_start_matches('\u{feff}');
    let tags = tags(xml);
    let entity = tags
        .iter()
        .find(|t| !t.close && t.local == "EntityDescriptor")
        .ok_or("Must contain a SAML EntityDescriptor element.")?;
    // Only the identity provider's part: a combined document may also describe an SP.
    let (from, to) = match tags
        .iter()
        .position(|t| !t.close && t.local == "IDPSSODescriptor")
    {
        Some(start) => {
            let end = tags[start..]
                .iter()
                .position(|t| t.close && t.local == "IDPSSODescriptor")
                .map_or(tags.len(), |n| start + n);
            (start, end)
        }
        None => (0, tags.len()),
    };
    let idp = &tags[from..to];
    let mut md = Metadata {
        entity_id: attr(entity.attrs, "entityID"),
        sso_endpoint: endpoint(idp, "SingleSignOnService"),
        slo_endpoint: endpoint(idp, "SingleLogoutService"),
        certs: Vec::new(),
    };
    for (i, tag) in idp.iter().enumerate() {
        if tag.close || tag.local != "X509Certificate" || tag.self_closing {
            continue;
        }
        let text_end = idp.get(i + 1).map_or(xml.len(), |next| next.start);
        let cert = normalise_cert(&xml[tag.end..text_end])
            .map_err(|e| format!("Certificate {} in the metadata: {e}", md.certs.len() + 1))?;
        if !md.certs.contains(&cert) {
            md.certs.push(cert);
        }
    }
    if md.certs.len() > MAX_CERTS {
        return Err(format!(
            "The metadata holds more than {MAX_CERTS} certificates."
        ));
    }
    if let Some(id) = &md.entity_id {
        check_entity_id(id).map_err(|e| format!("entityID: {e}"))?;
    }
    for url in [&md.sso_endpoint, &md.slo_endpoint].into_iter().flatten() {
        check_url(url).map_err(|e| format!("Location '{}': {e}", truncate(url)))?;
    }
    Ok(md)
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The `Location` of the first `local` element, preferring the HTTP-Redirect binding.
fn endpoint(tags: &[Tag<'_>], local: &str) -> Option<String> {
    let candidates: Vec<&Tag<'_>> = tags
        .iter()
        .filter(|t| !t.close && t.local == local)
        .collect();
    let redirect = candidates
        .iter()
        .find(|t| attr(t.attrs, "Binding").is_some_and(|b| b.ends_with(":bindings:HTTP-Redirect")));
    redirect
        .or(candidates.first())
        .and_then(|t| attr(t.attrs, "Location"))
}

#[derive(Debug)]
struct Tag<'a> {
    /// Element name without its namespace prefix.
    local: &'a str,
    close: bool,
    self_closing: bool,
    /// The text after the name, up to the closing `>`.
    attrs: &'a str,
    /// Byte offsets of `<` and just past `>`.
    start: usize,
    end: usize,
}

/// Every element tag of `xml`, in order. Markup that is not an element (comments, CDATA,
/// `<?...?>`, `<!DOCTYPE ...>`) is skipped; `>` inside quoted attribute values is honoured.
fn tags(xml: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(offset) = xml[pos..].find('<') {
        let start = pos + offset;
        let rest = &xml[start..];
        let skip_to = |end: &str| rest.find(end).map(|i| start + i + end.len());
        let next = if rest.starts_with("<!--") {
            skip_to("-->")
        } else if rest.starts_with("<![CDATA[") {
            skip_to("]]>")
        } else if rest.starts_with("<?") {
            skip_to("?>")
        } else if rest.starts_with("<!") {
            skip_to(">")
        } else {
            tag_end(xml, start).inspect(|&end| out.push(tag_at(xml, start, end)))
        };
        match next {
            Some(n) => pos = n,
            None => break,
        }
    }
    out
}

/// Offset just past the `>` closing the tag that starts at `start`.
fn tag_end(xml: &str, start: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in xml[start..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(start + i + 1),
            _ => {}
        }
    }
    None
}

fn tag_at(xml: &str, start: usize, end: usize) -> Tag<'_> {
    let inner = &xml[start + 1..end - 1];
    let (close, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let self_closing = inner.ends_with('/');
    let name_len = inner
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    Tag {
        local: name.rsplit(':').next().unwrap_or(name),
        close,
        self_closing,
        attrs: &inner[name_len..],
        start,
        end,
    }
}

/// The value of attribute `name` (unprefixed) in a tag's attribute text, with the five
/// predefined entities expanded.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value_len = after[1..].find(quote)?;
        let value = &after[1..1 + value_len];
        if key == name {
            return Some(
                value
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
        }
        rest = &after[1 + value_len + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn cert_b64() -> (String, String) {
        let pem = crate::pki::generate_sp_certificate("idp", 30, crate::pki::SpKey::P256).unwrap();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        (pem, body)
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
        let no_idp = STANDARD.encode(r#"<EntityDescriptor entityID="e"/>"#);
        let md = parse_entity_descriptor(&no_idp).unwrap();
        assert_eq!(md.entity_id.as_deref(), Some("e"));
        assert!(md.certs.is_empty());
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
