//! `GET /auth/invitations/{token}` and `POST /auth/invitations/{token}/accept`; the rules
//! are in `service::signin::invitations`.

use super::super::body::Json;
use crate::error::ApiResult;
use crate::service::signin::invitations::{self, AcceptBody};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// GET /auth/invitations/{token}
pub async fn show(state: web::Data<AppState>, token: web::Path<String>) -> ApiResult<HttpResponse> {
    let (invitation, account) = invitations::find(&state, &token)?;
    Ok(super::secret_json(&json!({
        "object": "user-invitation",
        "email": invitation.email,
        "account_id": invitation.account_id,
        "account_display_name": account.display_name,
        "expiration": crate::clock::rfc3339(invitation.expires_at),
    })))
}

/// POST /auth/invitations/{token}/accept
pub async fn accept(
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: actix_web::HttpRequest,
    body: Json<AcceptBody>,
) -> ApiResult<HttpResponse> {
    let info = crate::api::scope::request_info(&req);
    let user = invitations::accept(&state, &token, body.0, &info).await?;
    Ok(super::secret_json(&json!({
        "object": "user",
        "id": user.id,
        "account_id": user.account_id,
        "email": user.email,
        "status": user.status,
    })))
}
