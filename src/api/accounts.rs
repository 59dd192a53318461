//! Accounts: the caller's own profile (`/v3/accounts/me`). The rules are in
//! `service::accounts`; the view in `views::accounts`.

use super::body::Json;
use super::scope::AccountScope;
use super::views::accounts::{include_param, view};
use crate::error::ApiResult;
use crate::service::accounts::{self, AccountUpdate};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// GET /v3/accounts/me
///
/// `include=sub_accounts` is for admins: the spec says "Not available for developer users",
/// and the sub-accounts' contact details are not every user's to read. For anyone else the
/// include is ignored (no `sub_accounts` field), like an include that does not apply.
pub async fn get_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let include = include_param(&req);
    let include: Vec<&str> = include
        .iter()
        .map(String::as_str)
        .filter(|i| *i != "sub_accounts" || scope.is_admin())
        .collect();
    Ok(HttpResponse::Ok().json(view(&state, &scope.account, &include)?))
}

/// PUT /v3/accounts/me
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<AccountUpdate>,
) -> ApiResult<HttpResponse> {
    let updated = accounts::update_me(&state, &scope, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated, &[])?))
}
