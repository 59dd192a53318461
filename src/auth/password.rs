//! Password hashes: PBKDF2-HMAC-SHA256 (ring) with a per-user random salt.
//!
//! Encoded as `[1][iterations u32 BE][salt 16][hash 32]`. Passwords people choose get
//! `CHOSEN_ITERATIONS`; passwords the server generates are 24 random characters (~143 bits)
//! and cannot be guessed whatever the cost, so, like API key secrets (one SHA-256), they get
//! a single iteration: at 1,000 the hash was half the CPU time of `POST /v3/users`
//! (~300 of ~600 µs, `cargo bench --bench load`).

use ring::pbkdf2;
use std::num::NonZeroU32;

const FORMAT: u8 = 1;
pub const CHOSEN_ITERATIONS: u32 = 100_000;
pub const GENERATED_ITERATIONS: u32 = 1;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

pub fn hash(password: &str, iterations: u32) -> Vec<u8> {
    let mut salt = [0u8; SALT_LEN];
    crate::ids::random_bytes(&mut salt);
    let mut out = [0u8; HASH_LEN];
    let rounds = NonZeroU32::new(iterations.max(1)).expect("at least one round");
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    let mut encoded = vec![FORMAT];
    encoded.extend_from_slice(&rounds.get().to_be_bytes());
    encoded.extend_from_slice(&salt);
    encoded.extend_from_slice(&out);
    encoded
}

pub fn verify(password: &str, encoded: &[u8]) -> bool {
    if encoded.len() != 1 + 4 + SALT_LEN + HASH_LEN || encoded[0] != FORMAT {
        return false;
    }
    let rounds = u32::from_be_bytes(encoded[1..5].try_into().expect("length checked"));
    let Some(rounds) = NonZeroU32::new(rounds) else {
        return false;
    };
    let salt = &encoded[5..5 + SALT_LEN];
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        &encoded[5 + SALT_LEN..],
    )
    .is_ok()
}

/// A password for a user who did not choose one.
pub fn generate() -> String {
    super::apikey::random_secret(24)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash("correct horse", 1_000);
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong horse", &h));
        assert_ne!(h, super::hash("correct horse", 1_000), "salts differ");
    }
}
