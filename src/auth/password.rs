//! Password hashes: PBKDF2-HMAC-SHA256 (ring) with a per-user random salt.
//!
//! Encoded as `[1][iterations u32 BE][salt 16][hash 32]`. Passwords people choose get
//! `CHOSEN_ITERATIONS` (OWASP's figure for PBKDF2-HMAC-SHA256), about 0.2 s of CPU each, so
//! they are hashed and checked on actix's blocking pool ([`hash_chosen`], [`check_user`]),
//! never on an HTTP worker. Passwords the server generates are 24 random characters
//! (~143 bits) and cannot be guessed whatever the cost, so, like API key secrets (one
//! SHA-256), they get a single iteration: at 1,000 the hash was half the CPU time of
//! `POST /v3/users` (~300 of ~600 µs, `cargo bench --bench load`).
//!
//! Hashes made at an older, lower cost (chosen passwords had 100,000 iterations) keep
//! verifying and are replaced at the next successful check ([`needs_upgrade`]).

use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::store::Store;
use actix_web::web;
use ring::pbkdf2;
use std::num::NonZeroU32;

const FORMAT: u8 = 1;
pub const CHOSEN_ITERATIONS: u32 = 600_000;
// OWASP's minimum for PBKDF2-HMAC-SHA256 (2023): lowering the cost does not compile.
const _: () = assert!(CHOSEN_ITERATIONS >= 600_000);
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

/// The PBKDF2 iterations of an encoded hash, if it is one.
pub fn iterations(encoded: &[u8]) -> Option<u32> {
    if encoded.len() != 1 + 4 + SALT_LEN + HASH_LEN || encoded[0] != FORMAT {
        return None;
    }
    Some(u32::from_be_bytes(encoded[1..5].try_into().ok()?))
}

pub fn verify(password: &str, encoded: &[u8]) -> bool {
    let Some(rounds) = iterations(encoded).and_then(NonZeroU32::new) else {
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

/// Whether a hash that just verified should be replaced by one at today's cost: a chosen
/// password hashed with fewer than `CHOSEN_ITERATIONS`. Generated passwords' single
/// iteration is deliberate and stays.
pub fn needs_upgrade(encoded: &[u8]) -> bool {
    iterations(encoded).is_some_and(|n| n > GENERATED_ITERATIONS && n < CHOSEN_ITERATIONS)
}

/// The outcome of [`verify_and_upgrade`].
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    Wrong,
    Right,
    /// Right, and this hash (at today's cost) should replace the stored one.
    RightUpgraded(Vec<u8>),
}

/// Checks `password` against `encoded` and, when it is right and the hash is old, hashes it
/// again at today's cost. CPU-heavy: call it off the HTTP workers ([`check_user`] does).
pub fn verify_and_upgrade(password: &str, encoded: &[u8]) -> Checked {
    if !verify(password, encoded) {
        Checked::Wrong
    } else if needs_upgrade(encoded) {
        Checked::RightUpgraded(hash(password, CHOSEN_ITERATIONS))
    } else {
        Checked::Right
    }
}

/// Hashes a password someone chose, on actix's blocking pool.
pub async fn hash_chosen(password: String) -> ApiResult<Vec<u8>> {
    blocking(move || hash(&password, CHOSEN_ITERATIONS)).await
}

/// Runs CPU-heavy `f` on actix's blocking pool, leaving the HTTP worker free, with at most
/// one hash per core at a time: actix's pool grows to hundreds of threads, and a burst of
/// wrong logins sharing the cores would slow every hash and everything else on the machine.
/// The rest wait their turn without holding a thread (the wait is async).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    });
    let _turn = permits
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))?;
    web::block(f)
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))
}

/// Whether `password` is the password of `user` in `account`, checked on the blocking pool.
/// A right password whose hash is old gets a new hash, stored only if the stored hash is
/// still the one checked (a password changed meanwhile wins). `POST /auth/login` checks
/// passwords with it (through `login::check_password`).
pub async fn check_user(
    store: &Store,
    account: &Id,
    user: &Id,
    password: String,
) -> ApiResult<bool> {
    let Some(stored) = store
        .users
        .get(account, user)?
        .and_then(|u| u.password_hash)
    else {
        return Ok(false);
    };
    let checked = {
        let stored = stored.clone();
        blocking(move || verify_and_upgrade(&password, &stored)).await?
    };
    let new = match checked {
        Checked::Wrong => return Ok(false),
        Checked::Right => return Ok(true),
        Checked::RightUpgraded(new) => new,
    };
    let changed = store.users.update(account, user, &|u| {
        if u.password_hash.as_deref() != Some(stored.as_slice()) {
            return Err(crate::store::StoreError::Conflict(
                "the password changed meanwhile".into(),
            ));
        }
        u.password_hash = Some(new.clone());
        Ok(())
    });
    match changed {
        Ok(written) => {
            written.durable().await?;
        }
        // Changed or deleted meanwhile: the password checked was right when checked.
        Err(crate::store::StoreError::Conflict(_) | crate::store::StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(true)
}

/// A password for a user who did not choose one.
pub fn generate() -> String {
    super::apikey::random_secret(24)
}

/// The hash of a password nobody chose (see the module comment for its cost).
pub fn hash_generated(password: &str) -> Vec<u8> {
    hash(password, GENERATED_ITERATIONS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::UserRecord;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse", 1_000);
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert_ne!(h, hash("correct horse", 1_000), "salts differ");
        assert_eq!(iterations(&h), Some(1_000));
        assert!(!verify("correct horse", &h[1..]));
    }

    #[test]
    fn old_hashes_verify_and_are_upgraded_generated_ones_stay_cheap() {
        let old = hash("correct horse", 100_000);
        assert!(needs_upgrade(&old));
        assert_eq!(verify_and_upgrade("wrong horse", &old), Checked::Wrong);
        let Checked::RightUpgraded(new) = verify_and_upgrade("correct horse", &old) else {
            panic!("an old hash is upgraded");
        };
        assert_eq!(iterations(&new), Some(CHOSEN_ITERATIONS));
        assert!(verify("correct horse", &new));
        assert!(!needs_upgrade(&new));
        assert_eq!(verify_and_upgrade("correct horse", &new), Checked::Right);
        let generated = hash("generated", GENERATED_ITERATIONS);
        assert!(!needs_upgrade(&generated));
        assert_eq!(verify_and_upgrade("generated", &generated), Checked::Right);
    }

    #[actix_web::test]
    async fn chosen_passwords_are_hashed_off_the_calling_thread() {
        let ticks = Rc::new(Cell::new(0u32));
        let counter = ticks.clone();
        let ticker = actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(Duration::from_millis(1)).await;
                counter.set(counter.get() + 1);
            }
        });
        let h = hash_chosen("correct horse".into()).await.unwrap();
        ticker.abort();
        assert!(ticks.get() > 0, "the calling thread was busy while hashing");
        assert_eq!(iterations(&h), Some(CHOSEN_ITERATIONS));
    }

    #[actix_web::test]
    async fn a_right_password_with_an_old_hash_gets_a_new_one_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = crate::ids::AccountId::new();
        let user = UserRecord {
            password_hash: Some(hash("correct horse", 100_000)),
            ..UserRecord::new(
                account,
                "old@example.com".into(),
                crate::status::UserStatus::Active,
            )
        };
        let id = user.id;
        store
            .users
            .create(user, None)
            .unwrap()
            .durable()
            .await
            .unwrap();
        let stored = |s: &Store| {
            s.users
                .get(&account, &id)
                .unwrap()
                .unwrap()
                .password_hash
                .unwrap()
        };
        let check = |pw: &str| check_user(&store, &account, &id, pw.to_string());

        assert!(!check("wrong horse").await.unwrap());
        assert_eq!(
            iterations(&stored(&store)),
            Some(100_000),
            "a wrong password changes nothing"
        );
        assert!(check("correct horse").await.unwrap());
        let upgraded = stored(&store);
        assert_eq!(iterations(&upgraded), Some(CHOSEN_ITERATIONS));
        assert!(verify("correct horse", &upgraded));
        assert!(check("correct horse").await.unwrap());
        assert_eq!(stored(&store), upgraded, "upgraded once");
        assert!(!check_user(&store, &account, &Id::new(), "x".into())
            .await
            .unwrap());
    }
}
