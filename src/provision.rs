//! Building a new account with everything it starts with: the `Administrators` and
//! `Developers` groups, an admin user and an admin API key. Used by the first start and by
//! sub-tenant creation, so both make accounts the same way.

use crate::auth::{apikey, password};
use crate::ids::ApiKeyId;
use crate::status::{ApiKeyStatus, UserStatus};
use crate::store::accounts::{AccountRecord, NewAccount};
use crate::store::apikeys::ApiKeyRecord;
use crate::store::groups::GroupRecord;
use crate::store::users::UserRecord;

pub const ADMINISTRATORS: &str = "Administrators";
pub const DEVELOPERS: &str = "Developers";

/// The admin user to create with an account.
pub struct AdminPlan {
    pub email: String,
    pub username: Option<String>,
    pub full_name: Option<String>,
    /// The hash of a chosen password (`password::hash_chosen`); `None` generates one.
    pub chosen_hash: Option<Vec<u8>>,
    pub status: UserStatus,
}

/// What was created, with the secrets that are shown once.
pub struct Provisioned {
    pub new: NewAccount,
    pub admin_key: String,
    /// The generated password, when none was chosen.
    pub generated_password: Option<String>,
}

/// Builds the groups `account` names (see `AccountRecord::new`), its admin user and key.
pub fn plan(mut account: AccountRecord, admin: AdminPlan) -> Provisioned {
    let now = crate::clock::now_millis();
    let admins = GroupRecord::new(account.admin_group, account.id, ADMINISTRATORS);
    let developers = GroupRecord::new(account.developers_group, account.id, DEVELOPERS);
    account.created_at = now;
    account.updated_at = now;

    let (password_hash, generated) = match admin.chosen_hash {
        Some(h) => (h, None),
        None => {
            let p = password::generate();
            (password::hash_generated(&p), Some(p))
        }
    };
    let user = UserRecord {
        username: admin.username,
        full_name: admin.full_name,
        password_hash: Some(password_hash),
        email_verified: true,
        groups: vec![admins.id.id()],
        created_at: now,
        updated_at: now,
        password_changed_time: Some(now),
        ..UserRecord::new(account.id, admin.email, admin.status)
    };
    account.admin_user = Some(user.id);
    let key_id = ApiKeyId::new();
    let issued = apikey::issue(&account.id, &key_id);
    let key = ApiKeyRecord {
        id: key_id,
        account_id: account.id,
        name: "Administrator key".into(),
        owner: Some(user.id),
        status: ApiKeyStatus::Active,
        key_digest: issued.digest,
        groups: vec![admins.id.id()],
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    Provisioned {
        new: NewAccount {
            account,
            groups: vec![admins, developers],
            admin: user,
            admin_key: key,
        },
        admin_key: issued.full,
        generated_password: generated,
    }
}
