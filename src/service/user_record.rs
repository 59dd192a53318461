//! A new user record, as both paths that make users build it: `users::create` and an
//! invitation for an email the account has no user for (`invitations::create`).

use crate::ids::{AccountId, Id};
use crate::status::UserStatus;
use crate::store::users::UserRecord;

/// A new user record with `password_hash` (from `password::hash_chosen` for a chosen
/// password, `password::hash_generated` for a generated one or an invited user's
/// placeholder; see `auth::password` for their costs).
pub fn new_record(
    account: AccountId,
    email: String,
    status: UserStatus,
    password_hash: Vec<u8>,
    groups: Vec<Id>,
    login_profiles: Vec<Id>,
) -> UserRecord {
    let user = UserRecord::new(account, email, status);
    UserRecord {
        password_hash: Some(password_hash),
        login_profiles,
        groups,
        password_changed_time: Some(user.created_at),
        ..user
    }
}
