//! What people signing in leave behind: sessions, login history, TOTP secrets and one-time
//! tokens (password reset, email verification), each in tables of its own keyed by
//! `account ++ user` (the user record's layout is not touched), and the read-only lookups
//! a login needs (an account by alias, a user by email or username).
//!
//! Every store here is on the engine boundary: it names no engine, and its tests run on
//! sled and in memory alike. Secrets are kept only as SHA-256 digests (session tokens,
//! scratch codes, reset tokens); the TOTP secret is the exception, as verifying a code
//! needs it.

mod directory;
mod history;
mod sessions;
mod tokens;
mod totp;

pub use directory::Directory;
pub use history::{record_in as record_attempt_in, LoginAttempt, LoginHistory, HISTORY_LEN};
pub use sessions::{
    create_in as create_session_in, update_in as update_session_in, SessionKind, SessionRecord,
    Sessions,
};
pub use tokens::{AuthTokenKind, AuthTokenRecord, AuthTokens};
pub use totp::{delete_in as delete_totp_in, update_in as update_totp_in, TotpRecord, TotpStore};

use super::engine::Engine;
use std::sync::Arc;

/// The sign-in stores, over one engine.
pub struct SignIn {
    pub sessions: Sessions,
    pub history: LoginHistory,
    pub totp: TotpStore,
    pub tokens: AuthTokens,
    pub directory: Directory,
}

impl SignIn {
    pub fn new(engine: Arc<dyn Engine>) -> SignIn {
        SignIn {
            sessions: Sessions::new(engine.clone()),
            history: LoginHistory::new(engine.clone()),
            totp: TotpStore::new(engine.clone()),
            tokens: AuthTokens::new(engine.clone()),
            directory: Directory::new(engine),
        }
    }
}

/// `account ++ user`: the key of a user's row in each table here.
fn user_key(account: &crate::ids::Id, user: &crate::ids::Id) -> Vec<u8> {
    super::keys::owned(account, user)
}

/// Runs `check` on a store built over each engine of the conformance suite.
#[cfg(test)]
fn on_every_engine<S>(make: impl Fn(Arc<dyn Engine>) -> S, check: impl Fn(&S)) {
    for subject in crate::store::conformance::each_engine() {
        check(&make(subject.store.engine.clone()));
    }
}
