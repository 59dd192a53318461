//! Signing in (`/auth`): the rules the `api::auth` handlers call. The credential rules
//! themselves (tokens, sessions, TOTP codes, lockouts, password strength) are in
//! `crate::auth`; these functions apply them to the stores.

pub mod enroll;
pub mod invitations;
pub mod recovery;
pub mod sessions;
pub mod token;
pub mod totp;
