//! `AccountScope`: who acts (the authenticated caller) and on which account. The HTTP layer
//! resolves it once per request (`api::scope`, for both route families); services are
//! given it and decide with it (admin rights, the `Administrators` group, self-changes).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::{AccountId, GroupId};
use crate::store::accounts::AccountRecord;
use std::sync::Arc;

#[derive(Clone)]
pub struct AccountScope {
    pub caller: Caller,
    pub account: Arc<AccountRecord>,
    /// Reached through `/v3/accounts/{account_id}/...`.
    pub tenant: bool,
}

impl AccountScope {
    pub fn id(&self) -> AccountId {
        self.account.id
    }

    /// Admin rights in the target account: its own admins, or the parent's admins on the
    /// tenant routes (only they get that far).
    pub fn is_admin(&self) -> bool {
        self.tenant || self.caller.is_admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The target account's name as emails show it: its display name (its id when it has
    /// none), on one line.
    pub fn name_for_email(&self) -> String {
        let name = self.account.display_name.clone();
        crate::email::inline(&name.unwrap_or_else(|| self.id().hex()))
    }

    /// The `Administrators` group of the target account (it must keep a member).
    pub fn admin_group(&self) -> GroupId {
        self.account.admin_group
    }
}

/// Tenant management (`/v3/accounts` and `/v3/accounts/{account_id}/...`) is for admins of an
/// account whose tier allows sub-tenants (an aggregator); anyone else gets 403.
pub fn require_tenant_manager(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin && caller.account.is_aggregator {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}
