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

/// Checks a key chosen by the operator (`bootstrap.admin_api_key`) and returns the account and
/// key ids it names. It must be a whole key of this server's format, and its secret must look
/// random: a secret typed by hand (`aaaa...`, `abcd...`) is refused, since the key opens
/// every tenant.
pub fn check_chosen(text: &str) -> Result<(AccountId, ApiKeyId), String> {
    const HOW: &str = "`iamd admin-key --new` prints a fresh one";
    let ids = match parse(text) {
        Some(ids) if text.len() == FULL_LEN => ids,
        _ => {
            return Err(format!(
                "is not an iamd API key (`{PREFIX}` and {} more letters and digits): {HOW}",
                FULL_LEN - PREFIX.len()
            ))
        }
    };
    let secret = &text.as_bytes()[PUBLIC_LEN..];
    let distinct = secret
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // A step: a character equal to, or next after, the one before it. A random secret has
    // about 25 distinct characters and 1 step; these bounds refuse one in millions of them.
    let steps = secret
        .windows(2)
        .filter(|w| w[1] == w[0] || w[1] == w[0] + 1)
        .count();
    if distinct < 14 || steps >= 10 {
        return Err(format!(
            "its secret (the last {SECRET_LEN} characters) is not random enough: {HOW}"
        ));
    }
    Ok(ids)
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

    #[test]
    fn a_chosen_key_must_be_whole_and_random() {
        let (account, key_id) = (AccountId::new(), ApiKeyId::new());
        for _ in 0..1000 {
            let issued = issue(&account, &key_id);
            assert_eq!(check_chosen(&issued.full), Ok((account, key_id)));
        }
        let public = public_part(&account, &key_id);
        for secret in [
            "a".repeat(SECRET_LEN),
            "abcd".repeat(SECRET_LEN / 4),
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef".to_string(),
        ] {
            let err = check_chosen(&format!("{public}{secret}")).unwrap_err();
            assert!(err.contains("not random enough"), "{err}");
        }
        for bad in [
            "",
            "ak_short",
            &public,
            &format!("{public}{}x", random_secret(32)),
        ] {
            let err = check_chosen(bad).unwrap_err();
            assert!(
                err.contains("not an iamd API key") && err.contains("admin-key --new"),
                "{err}"
            );
        }
    }
}
