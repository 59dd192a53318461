//! Field rules from the spec (lengths, patterns, ranges), collected so that one response
//! names every bad field at once; and `nullable`, for request fields where `null` and
//! "absent" differ.

use crate::error::{ApiError, FieldError};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// Bounds on `custom_fields` (users and accounts; the spec gives accounts `maxItems: 10`).
pub const MAX_CUSTOM_FIELDS: usize = 10;
pub const MAX_CUSTOM_KEY: usize = 100;
pub const MAX_CUSTOM_VALUE: usize = 1000;

pub const EMAIL: &str = "Must be one email address (local@domain, at most 254 bytes, \
                         no display name, spaces or control characters).";
const ONE_LINE: &str = "Must be one line of text: no control characters (line breaks, tabs), \
                        bidirectional overrides or line separators.";

/// Longest accepted address, in bytes: RFC 5321's 256-octet path less its angle brackets.
pub const MAX_EMAIL_BYTES: usize = 254;

/// One RFC 5322 addr-spec that RFC 5321 can deliver to: `local@domain`, no display name, no
/// comments, no whitespace or control characters, the local part a dot-atom of at most 64
/// bytes (quoted local parts are refused: nothing legitimate needs them and they can hold
/// `<`, `>` and `,`), the domain host-name labels or an address literal, at most 254 bytes
/// in all. Non-ASCII letters are allowed (RFC 6531). This is stricter than the spec's
/// `^(?=.{3,254}$).+\@.+`, which let `a@b>, <c@d` put a second recipient into a message.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let options = email_address::Options::default().without_display_text();
    s.len() <= MAX_EMAIL_BYTES
        && !s.chars().any(|c| c.is_whitespace() || is_invisible(c))
        && !local.starts_with('"')
        && is_domain(domain)
        && email_address::EmailAddress::parse_with_options(s, options).is_ok()
}

/// Host-name labels (letters, digits, inner hyphens: RFC 5321's `Domain`, Unicode letters
/// for internationalised names) or an address literal such as `[192.0.2.1]`.
fn is_domain(domain: &str) -> bool {
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return literal.parse::<std::net::Ipv4Addr>().is_ok()
            || literal
                .strip_prefix("IPv6:")
                .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok());
    }
    domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    })
}

/// Characters no one-line text may hold: C0 and C1 controls and DEL (line breaks and tabs
/// included), bidirectional embeddings, overrides, isolates and marks (which make text
/// read differently from what it is), and the Unicode line and paragraph separators.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// One line of visible text (see [`is_invisible`]).
pub fn is_one_line(s: &str) -> bool {
    !s.chars().any(is_invisible)
}

/// `[\w\-,._@+=]{4,30}`.
pub fn is_username(s: &str) -> bool {
    let n = s.chars().count();
    (4..=30).contains(&n)
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-,.@+=".contains(c))
}

/// `[\w\-._]{8,100}` (account aliases).
pub fn is_alias(s: &str) -> bool {
    let n = s.chars().count();
    (8..=100).contains(&n) && s.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
}

#[derive(Default)]
pub struct Checks {
    fields: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.fields.push(FieldError::new(name, message));
    }

    pub fn check(&mut self, ok: bool, name: &str, message: impl Into<String>) {
        if !ok {
            self.fail(name, message);
        }
    }

    pub fn max_len(&mut self, name: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.fail(name, format!("Must be at most {max} characters."));
            }
        }
    }

    /// A required one-line text field (a name): `missing` when absent, else not blank, at
    /// most `max` long and one line of visible text.
    pub fn required_text(&mut self, name: &str, value: Option<&str>, max: usize, missing: &str) {
        match value {
            None => self.fail(name, missing),
            Some(v) if v.trim().is_empty() => self.fail(name, "Must not be empty."),
            Some(v) => self.text(name, Some(v), max),
        }
    }

    /// An optional one-line text field (names, address lines, phone numbers): at most `max`
    /// characters of visible text, no control, bidi or line-separator characters.
    pub fn text(&mut self, name: &str, value: Option<&str>, max: usize) {
        let Some(v) = value else { return };
        if v.chars().count() > max {
            self.fail(name, format!("Must be at most {max} characters."));
        } else if !is_one_line(v) {
            self.fail(name, ONE_LINE);
        }
    }

    /// `custom_fields`: at most [`MAX_CUSTOM_FIELDS`] entries, keys of one line and 1 to
    /// [`MAX_CUSTOM_KEY`] characters, values of at most [`MAX_CUSTOM_VALUE`] characters.
    pub fn custom_fields(&mut self, name: &str, fields: Option<&BTreeMap<String, String>>) {
        let Some(fields) = fields else { return };
        if fields.len() > MAX_CUSTOM_FIELDS {
            self.fail(name, format!("At most {MAX_CUSTOM_FIELDS} custom fields."));
        } else if let Some(key) = fields
            .keys()
            .find(|k| k.is_empty() || k.chars().count() > MAX_CUSTOM_KEY || !is_one_line(k))
        {
            self.fail(
                name,
                format!(
                    "Key '{}' must be 1 to {MAX_CUSTOM_KEY} characters of one line.",
                    truncate(key).escape_debug()
                ),
            );
        } else if let Some(key) = fields
            .iter()
            .find(|(_, v)| v.chars().count() > MAX_CUSTOM_VALUE)
            .map(|(k, _)| k)
        {
            self.fail(
                name,
                format!(
                    "The value of '{}' must be at most {MAX_CUSTOM_VALUE} characters.",
                    truncate(key)
                ),
            );
        }
    }

    pub fn not_blank(&mut self, name: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(name, "Must not be empty.");
        }
    }

    pub fn email(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_email(v) {
                self.fail(name, EMAIL);
            }
        }
    }

    pub fn username(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_username(v) {
                self.fail(
                    name,
                    "Must be 4-30 characters of letters, digits and -,._@+=.",
                );
            }
        }
    }

    pub fn range(&mut self, name: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min || v > max {
                self.fail(name, format!("Must be between {min} and {max}."));
            }
        }
    }

    pub fn one_of(&mut self, name: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.fail(name, format!("Must be one of: {}.", allowed.join(", ")));
            }
        }
    }

    /// A field that takes one of `T`'s names: the value, or `None` when absent or bad (a bad
    /// value fails on `name` with the same message as `one_of`).
    pub fn choice<T: crate::status::Named>(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Option<T> {
        let parsed = T::parse(value?);
        if parsed.is_none() {
            self.fail(name, format!("Must be one of: {}.", T::names().join(", ")));
        }
        parsed
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(ApiError::fields(self.fields))
        }
    }
}

/// Parses ids given in a request body (`groups`, `users`, ...): 400 naming the field.
pub fn ids(name: &str, values: &[String]) -> Result<Vec<crate::ids::Id>, ApiError> {
    values
        .iter()
        .map(|v| {
            crate::ids::Id::parse(v).ok_or_else(|| {
                ApiError::field(name, format!("'{}' is not a valid id.", truncate(v)))
            })
        })
        .collect()
}

/// Shortens user input echoed in messages.
pub fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// For fields where `null` and "absent" differ: absent is `None`, `null` is `Some(None)`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_email("a@b"));
        assert!(!is_email("ab@"));
        assert!(!is_email("@ab"));
        assert!(!is_email("ab"));
        assert!(is_email("x+y@[192.0.2.1]"));
        assert!(is_email("x@[IPv6:2001:db8::1]"));
        assert!(!is_email("x@[not-an-ip]"));
        assert!(!is_email("a@ex#ample.com"));
        assert!(!is_email(&format!("a@{}.com", "d".repeat(64))));
        assert!(!is_email("\"a b\"@example.com"));
        assert!(is_one_line("Zoë 山田"));
        for bad in [
            "a\nb",
            "a\u{85}",
            "\u{202e}x",
            "x\u{2067}",
            "\u{200f}",
            "\u{2029}",
        ] {
            assert!(!is_one_line(bad), "{bad:?}");
        }
        assert!(is_username("user_1.x"));
        assert!(!is_username("abc"));
        assert!(!is_username("has space"));
        assert!(is_alias("alias-one"));
        assert!(!is_alias("short"));
    }
}
