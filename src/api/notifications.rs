//! The email notification log: `/v3/accounts/me/notifications` and its tenant twin
//! `/v3/accounts/{account_id}/notifications`, one handler behind `AdminScope`.

use super::list::ListQuery;
use super::scope::AdminScope;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::notifications::NotificationRecord;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// `NotificationEntry`.
#[derive(Serialize)]
pub struct NotificationView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub receiver: String,
    pub subject: String,
    pub message: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub etag: String,
}

pub fn view(n: &NotificationRecord) -> NotificationView {
    NotificationView {
        object: "notification-entry",
        id: n.id.hex(),
        account_id: n.account_id.hex(),
        receiver: n.receiver.clone(),
        subject: n.subject.clone(),
        message: n.message.clone(),
        success: n.success,
        error_msg: n.error_msg.clone(),
        kind: n.kind.clone(),
        created_at: rfc3339(n.created_at),
        // Entries are never updated.
        etag: "1".into(),
    }
}

/// GET /v3/accounts/me/notifications
/// GET /v3/accounts/{account_id}/notifications
///
/// Admins only: the log names every user the account emailed.
pub async fn list(
    state: web::Data<AppState>,
    scope: AdminScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    // The operation lists no `x-filter`: any `field__op` parameter is a 400.
    let q = ListQuery::parse(&req, 50, &[])?;
    let page = crate::service::notifications::list(&state, &scope.id(), &q.page)?;
    Ok(q.respond(page.map(|n| view(&n))))
}
