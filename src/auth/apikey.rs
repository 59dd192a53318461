//! API key text: `ak_1` + base64(account id hex, no padding) + key id hex + 32-char secret.
//!
//! The part before the secret is not secret: responses show it as the key's `key` field, and
//! it is how a key is told apart from another in lists. The server keeps only a SHA-256
//! digest of the full text, which is enough for a 190-bit random secret.

use crate::ids::{AccountId, ApiKeyId, Id};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;

const PREFIX: &str = "ak_1";
const SECRET_LEN: usize = 32;
const ACCOUNT_B64_LEN: usize = 43;
const PUBLIC_LEN: usize = PREFIX.len() + ACCOUNT_B64_LEN + 32;
pub const FULL_LEN: usize = PUBLIC_LEN + SECRET_LEN;

/// A freshly issued key: the full text is shown to the client once.
pub struct IssuedKey {
    pub full: String,
    pub digest: Vec<u8>,
}

/// The non-secret part of a key: shown in every response after creation.
pub fn public_part(account: &Id, key_id: &Id) -> String {
    format!(
        "{PREFIX}{}{}",
        STANDARD_NO_PAD.encode(account.hex()),
        key_id.hex()
    )
}

pub fn issue(account: &Id, key_id: &Id) -> IssuedKey {
    let full = format!(
        "{}{}",
        public_part(account, key_id),
        random_secret(SECRET_LEN)
    );
    let digest = digest(&full);
    IssuedKey { full, digest }
}

pub fn digest(full: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, full.as_bytes())
        .as_ref()
        .to_vec()
}

/// The account and key ids named by a key's text (full or public part), if well-formed.
pub fn parse(text: &str) -> Option<(AccountId, ApiKeyId)> {
    if !(text.len() == FULL_LEN || text.len() == PUBLIC_LEN) || !text.starts_with(PREFIX) {
        return None;
    }
    let account_b64 = text.get(PREFIX.len()..PREFIX.len() + ACCOUNT_B64_LEN)?;
    // On the stack: every authenticated request parses its key.
    let mut account_hex = [0u8; 48];
    let n = STANDARD_NO_PAD
        .decode_slice(account_b64, &mut account_hex)
        .ok()?;
    let account = AccountId::parse(std::str::from_utf8(&account_hex[..n]).ok()?)?;
    let key_id = ApiKeyId::parse(text.get(PREFIX.len() + ACCOUNT_B64_LEN..PUBLIC_LEN)?)?;
    if text.len() == FULL_LEN
        && !text[PUBLIC_LEN..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((account, key_id))
}

/// Random text of letters and digits (for key secrets and generated passwords).
pub fn random_secret(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        crate::ids::random_bytes(&mut buf);
        for b in buf {
            // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_parse() {
        let (account, key_id) = (AccountId::new(), ApiKeyId::new());
        let issued = issue(&account, &key_id);
        assert_eq!(issued.full.len(), FULL_LEN);
        assert!(issued.full.starts_with(&public_part(&account, &key_id)));
        assert_eq!(parse(&issued.full), Some((account, key_id)));
        assert_eq!(
            parse(&public_part(&account, &key_id)),
            Some((account, key_id))
        );
        assert_eq!(parse("ak_nonsense"), None);
        let mut bad = issued.full.clone();
        bad.replace_range(FULL_LEN - 1.., "!");
        assert_eq!(parse(&bad), None);
        // The account part must be base64 of 32 hex digits.
        let with_account = |b64: &str| {
            let mut text = issued.full.clone();
            text.replace_range(PREFIX.len()..PREFIX.len() + ACCOUNT_B64_LEN, b64);
            parse(&text)
        };
        assert_eq!(
            with_account(&STANDARD_NO_PAD.encode(account.hex())),
            Some((account, key_id))
        );
        assert_eq!(with_account(&STANDARD_NO_PAD.encode("z".repeat(32))), None);
        assert_eq!(with_account(&"!".repeat(ACCOUNT_B64_LEN)), None);
        assert!(constant_time_eq(&issued.digest, &digest(&issued.full)));
        assert!(!constant_time_eq(&issued.digest, &digest(&bad)));
    }
}
