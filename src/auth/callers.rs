//! The callers of API keys, kept between requests while nothing is committed.
//!
//! Authenticating a key reads its digest entry, its record, its account and its owner, and
//! checks them: the larger part of an authenticated GET's own work, and none of it changes
//! between two commits. So each worker thread keeps the callers it made, marked with the
//! engine's [`Generation`] as read *before* those reads. A kept caller answers only while
//! the generation is the same, and every commit changes it: a key revoked, a user
//! deactivated or locked out, an account deleted is a commit, which ends before its request
//! is answered, so every request after that reads again, on every thread.
//!
//! Only callers that were let in are kept: a refused key is read and refused each time (and
//! counted by the failure limiter each time). A kept caller is found by its key's SHA-256
//! digest; comparing digests in variable time tells nothing about the key.
//! Per thread rather than shared: no lock and no shared cache line on the request path (an
//! actix worker serves a request on one thread from start to end). Engines without a
//! generation (PostgreSQL, which has a read cache of its own, and memory) keep nothing here.

use super::Caller;
use crate::store::engine::Generation;
use std::cell::RefCell;
use std::collections::HashMap;

/// Callers kept per thread. Past this, callers of an older generation are dropped, and if
/// that is not enough, all are.
const MAX_ENTRIES: usize = 1024;

thread_local! {
    static KEPT: RefCell<HashMap<[u8; 32], (Generation, Caller)>> = RefCell::default();
}

/// The caller kept for the key with `digest`, if it was made under `generation`.
pub fn get(generation: Generation, digest: &[u8]) -> Option<Caller> {
    KEPT.with(|kept| {
        let kept = kept.borrow();
        let (made_under, caller) = kept.get(digest)?;
        (*made_under == generation).then(|| caller.clone())
    })
}

/// Keeps `caller`, made from reads that began under `generation`.
pub fn keep(generation: Generation, digest: &[u8], caller: &Caller) {
    let Ok(digest) = <[u8; 32]>::try_from(digest) else {
        return;
    };
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= MAX_ENTRIES {
            kept.retain(|_, (made_under, _)| *made_under == generation);
            if kept.len() >= MAX_ENTRIES {
                kept.clear();
            }
        }
        kept.insert(digest, (generation, caller.clone()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::accounts::AccountRecord;
    use std::sync::Arc;

    fn caller() -> Caller {
        Caller {
            account: Arc::new(AccountRecord::new(None)),
            apikey: None,
            owner: None,
            session: None,
            is_admin: true,
        }
    }

    #[test]
    fn a_kept_caller_answers_only_under_its_generation_and_engine() {
        let at = |engine, commits| Generation { engine, commits };
        let digest = [7u8; 32];
        keep(at(1, 5), &digest, &caller());
        assert!(get(at(1, 5), &digest).is_some());
        assert!(get(at(1, 6), &digest).is_none(), "a commit since");
        assert!(get(at(2, 5), &digest).is_none(), "another engine");
        assert!(get(at(1, 5), &[8u8; 32]).is_none(), "another key");
    }

    #[test]
    fn the_kept_callers_are_bounded() {
        let g = Generation {
            engine: 9,
            commits: 0,
        };
        for i in 0..(MAX_ENTRIES as u32 + 10) {
            let mut digest = [0u8; 32];
            digest[..4].copy_from_slice(&i.to_be_bytes());
            keep(g, &digest, &caller());
        }
        assert!(KEPT.with(|k| k.borrow().len()) <= MAX_ENTRIES);
    }
}
