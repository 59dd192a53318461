//! Distinguished names as RFC 4514 strings, the form the API's `subject` and
//! `issuer` fields use (`CN=subject`).

use x509_parser::der_parser::asn1_rs::{Tag, ToDer};
use x509_parser::prelude::{AttributeTypeAndValue, X509Name};

use super::encoding::lower_hex;

/// RFC 4514: most specific RDN first (the reverse of DER order), RDNs joined by
/// `,`, multi-valued RDN members by `+`.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| format!("{}={}", short_name(atv), value_string(atv)))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// First value of the attribute `oid` (dotted form) as plain text, unescaped.
pub(crate) fn first_text(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|atv| atv.attr_type().to_id_string() == oid)
        .and_then(decode_text)
}

pub(crate) const OID_CN: &str = "2.5.4.3";
pub(crate) const OID_OU: &str = "2.5.4.11";

/// The short names RFC 4514 section 3 defines; anything else is printed as a
/// dotted OID, as the RFC requires.
fn short_name(atv: &AttributeTypeAndValue<'_>) -> String {
    let oid = atv.attr_type().to_id_string();
    let short = match oid.as_str() {
        OID_CN => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        OID_OU => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return oid,
    };
    short.to_string()
}

fn value_string(atv: &AttributeTypeAndValue<'_>) -> String {
    match decode_text(atv) {
        Some(text) => escape(&text),
        // RFC 4514 2.4: values without a string form are `#` + hex of their DER.
        None => {
            let der = atv
                .attr_value()
                .to_der_vec()
                .unwrap_or_else(|_| atv.as_slice().to_vec());
            format!("#{}", lower_hex(&der))
        }
    }
}

/// Decodes the directory string types certificates use in practice, including
/// the UTF-16 and UCS-4 ones x509-parser's `as_str` refuses.
fn decode_text(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    let data = atv.as_slice();
    match atv.attr_value().tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString => {
            std::str::from_utf8(data).ok().map(str::to_owned)
        }
        // T.61 in the wild is Latin-1 in all but name.
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString if data.len().is_multiple_of(2) => {
            let units = data.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        Tag::UniversalString if data.len().is_multiple_of(4) => data
            .chunks(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    }
}

/// RFC 4514 2.4 escaping, so a value containing `,` cannot be read back as two RDNs.
fn escape(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{DistinguishedName, DnType, DnValue, KeyPair};
    use x509_parser::prelude::{FromDer, X509Certificate};

    fn name_of(dn: DistinguishedName) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let now = time::OffsetDateTime::now_utc();
        let params = super::super::base_params(dn, now, now + time::Duration::days(1));
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn most_specific_rdn_comes_first() {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "GB");
        dn.push(DnType::OrganizationName, "ARM Ltd");
        dn.push(DnType::OrganizationalUnitName, "acct");
        dn.push(DnType::CommonName, "ep");
        let der = name_of(dn);
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(rfc4514(cert.subject()), "CN=ep,OU=acct,O=ARM Ltd,C=GB");
        assert_eq!(first_text(cert.subject(), OID_CN).as_deref(), Some("ep"));
        assert_eq!(first_text(cert.subject(), OID_OU).as_deref(), Some("acct"));
        assert_eq!(first_text(cert.subject(), "2.5.4.7"), None);
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape(" padded "), "\\ padded\\ ");
        assert_eq!(escape("q\"<>;\\"), "q\\\"\\<\\>\\;\\\\");
        assert_eq!(escape("mid#dle sp"), "mid#dle sp");
    }

    #[test]
    fn bmp_strings_decode_and_unknown_attributes_use_dotted_oids() {
        let mut dn = DistinguishedName::new();
        let bmp = rcgen::BmpString::try_from("h\u{e9}").unwrap();
        dn.push(DnType::CommonName, DnValue::BmpString(bmp));
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), "serial-1");
        let der = name_of(dn);
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(rfc4514(cert.subject()), "2.5.4.5=serial-1,CN=h\u{e9}");
    }
}
