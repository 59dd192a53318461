//! TOTP (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, a code of the step before or
//! after also accepted (clock drift), each step's code good once. And scratch codes:
//! 10 single-use codes of 10 digits, kept only as SHA-256 digests.

use crate::store::signin::TotpRecord;
use ring::hmac;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
pub const SECRET_LEN: usize = 20;
pub const SCRATCH_CODES: usize = 10;
const SCRATCH_LEN: usize = 10;

/// The HOTP value (RFC 4226) of `secret` at `counter`, as `digits` decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let code = binary % 10u32.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// The time step of `millis`.
pub fn step(millis: i64) -> u64 {
    (millis.div_euclid(1000) / STEP_SECS).max(0) as u64
}

/// The code of `secret` at `millis`.
pub fn code_at(secret: &[u8], millis: i64) -> String {
    hotp(secret, step(millis), DIGITS)
}

/// The step `code` belongs to (now, one before or one after), if it is right and newer
/// than `last_step` (a code is good once).
pub fn matching_step(secret: &[u8], code: &str, millis: i64, last_step: u64) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step(millis);
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|s| *s > last_step || last_step == 0)
        .find(|s| {
            super::apikey::constant_time_eq(hotp(secret, *s, DIGITS).as_bytes(), code.as_bytes())
        })
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_LEN];
    crate::ids::random_bytes(&mut secret);
    secret
}

pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URI authenticator apps read (Google's key-uri format).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account_name: &str) -> String {
    let enc = |s: &str| url_escape(s);
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account_name),
        base32(secret),
        enc(issuer)
    )
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// New scratch codes: the codes to show once, and their digests to keep.
pub fn new_scratch_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let codes: Vec<String> = (0..SCRATCH_CODES)
        .map(|_| {
            let mut raw = [0u8; SCRATCH_LEN];
            crate::ids::random_bytes(&mut raw);
            raw.iter().map(|b| char::from(b'0' + b % 10)).collect()
        })
        .collect();
    let digests = codes.iter().map(|c| super::apikey::digest(c)).collect();
    (codes, digests)
}

/// Checks `code` (a TOTP code or a scratch code) against a confirmed `record` at `millis`
/// and spends it: the step is remembered, the scratch code removed. Returns whether it
/// was right; `record` is changed only then.
pub fn spend(record: &mut TotpRecord, code: &str, millis: i64) -> bool {
    let code = code.trim();
    if let Some(s) = matching_step(&record.secret, code, millis, record.last_step) {
        record.last_step = s;
        return true;
    }
    if code.len() == SCRATCH_LEN {
        let digest = super::apikey::digest(code);
        if let Some(i) = record
            .scratch_digests
            .iter()
            .position(|d| super::apikey::constant_time_eq(d, &digest))
        {
            record.scratch_digests.remove(i);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits, the secret "12345678901234567890").
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (secs, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(secret, step(secs * 1000), 8), code, "at {secs}");
        }
        // RFC 4226 appendix D: the 6-digit HOTP values.
        assert_eq!(hotp(secret, 0, 6), "755224");
        assert_eq!(hotp(secret, 9, 6), "520489");
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_only_once() {
        let secret = new_secret();
        let now = 1_700_000_000_000;
        let mut record = TotpRecord {
            secret: secret.clone(),
            confirmed: true,
            ..TotpRecord::default()
        };
        let earlier = code_at(&secret, now - 30_000);
        let far = code_at(&secret, now - 90_000);
        assert!(!spend(&mut record.clone(), &far, now));
        assert!(spend(&mut record, &earlier, now));
        assert!(!spend(&mut record, &earlier, now), "spent");
        assert!(spend(&mut record, &code_at(&secret, now + 30_000), now));
        assert!(
            !spend(&mut record, &code_at(&secret, now), now),
            "an older step"
        );
        assert!(!spend(&mut record, "12345", now));
    }

    #[test]
    fn scratch_codes_work_once() {
        let (codes, digests) = new_scratch_codes();
        assert_eq!(codes.len(), SCRATCH_CODES);
        assert!(codes.iter().all(|c| c.len() == 10));
        let mut record = TotpRecord {
            secret: new_secret(),
            confirmed: true,
            scratch_digests: digests,
            last_step: 0,
        };
        assert!(spend(&mut record, &codes[3], 0));
        assert!(!spend(&mut record, &codes[3], 0));
        assert_eq!(record.scratch_digests.len(), SCRATCH_CODES - 1);
    }

    #[test]
    fn the_uri_names_the_secret_and_the_issuer() {
        let uri = otpauth_uri(b"12345678901234567890", "iamd root", "ann@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/iamd%20root:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=iamd%20root&algorithm=SHA1&digits=6&period=30"
        );
    }
}
