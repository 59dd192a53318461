//! `AccountScope`: who acts (the authenticated caller) and on which account. The HTTP layer
//! resolves it once per request (`api::scope`, for both route families); services are
//! given it and decide with it (admin rights, the `Administrators` group, self-changes).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, GroupId};
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use std::sync::Arc;

/// Where a request came from, for its audit entries.
#[derive(Debug, Clone, Default)]
/// Made for every request that resolves a scope, writes or not: the address and the request
/// id stay in their compact forms until an audit entry is written.
pub struct RequestInfo {
    pub ip_address: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<crate::ids::RequestId>,
    /// The request's instant on the server's clock (`auth.clock`, which a test can move);
    /// `None`: the wall clock's now.
    pub at: Option<i64>,
}

#[derive(Clone)]
pub struct AccountScope {
    pub caller: Caller,
    pub account: Arc<AccountRecord>,
    /// Reached through `/v3/accounts/{account_id}/...`.
    pub tenant: bool,
    /// Where the request came from (set by the HTTP layer), for audit entries.
    pub request: RequestInfo,
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

/// The scope of a request through `/v3/accounts/{account_id}/...` (for a caller that
/// `require_tenant_manager` admitted): the caller's own account, or a sub-tenant of it;
/// `None` for any other account, unknown or not the caller's, so tenant ids cannot be
/// probed.
pub fn tenant(state: &AppState, caller: Caller, id: AccountId) -> ApiResult<Option<AccountScope>> {
    if id == caller.account.id {
        return Ok(Some(AccountScope {
            request: Default::default(),
            account: caller.account.clone(),
            caller,
            tenant: true,
        }));
    }
    let Some(account) = state.store.accounts.get_shared(&id)? else {
        return Ok(None);
    };
    if account.parent_id != Some(caller.account.id) {
        return Ok(None);
    }
    Ok(Some(AccountScope {
        request: Default::default(),
        account,
        caller,
        tenant: true,
    }))
}
