//! The email notification log of an account (written by `email`, read here).

use crate::error::ApiResult;
use crate::ids::AccountId;
use crate::state::AppState;
use crate::store::notifications::NotificationRecord;
use crate::store::{Page, PageRequest};

/// GET /v3/accounts/me/notifications (for admins: the log names every user the account
/// emailed).
pub fn list(
    state: &AppState,
    account: &AccountId,
    page: &PageRequest,
) -> ApiResult<Page<NotificationRecord>> {
    Ok(state.store.notifications.list(account, page)?)
}
