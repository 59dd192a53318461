//! `POST /auth/change-password`.

use super::super::body::Json;
use crate::auth::{login, passwords};
use crate::error::{ApiError, ApiResult};
use crate::service::validate::Checks;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ChangeBody {
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    new_password: Option<String>,
}

/// POST /auth/change-password: the caller's own password (the one route a RESET user's
/// session may use).
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<ChangeBody>,
) -> ApiResult<HttpResponse> {
    let caller = crate::auth::identify(&req, &state)?;
    let user = caller.owner.clone().ok_or_else(|| {
        ApiError::Forbidden("Only a user has a password: this API key has no owner.".into())
    })?;
    let body = body.0;
    let mut c = Checks::new();
    c.check(
        body.current_password
            .as_deref()
            .is_some_and(|p| !p.is_empty()),
        "current_password",
        "Enter the current password.",
    );
    c.check(
        body.new_password.as_deref().is_some_and(|p| !p.is_empty()),
        "new_password",
        "Enter the new password.",
    );
    c.max_len("current_password", body.current_password.as_deref(), 512);
    c.finish()?;
    let (current, new) = (
        body.current_password.unwrap_or_default(),
        body.new_password.unwrap_or_default(),
    );
    passwords::check_new(&caller.account, &user, &new, "new_password")?;
    if new == current {
        return Err(ApiError::field(
            "new_password",
            "Must differ from the current password.",
        ));
    }
    if !login::check_password(&state, &user, current).await? {
        return Err(ApiError::field(
            "current_password",
            "The password is wrong.",
        ));
    }
    passwords::set(
        &state,
        &caller.account,
        &user,
        new,
        caller.session.as_deref(),
        (&crate::api::scope::request_info(&req), "password_change"),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
