//! User invitations: `/v3/user-invitations/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/user-invitations/...`. Who is invited and what revoking
//! removes is in `service::invitations`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::views::users::{login_profiles_view, LoginProfileView};
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::ids::{Id, InvitationId};
use crate::service::invitations::{self, InvitationCreate};
use crate::state::AppState;
use crate::store::invitations::InvitationRecord;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// `UserInvitationResp`.
#[derive(Serialize)]
pub struct InvitationView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub user_id: String,
    pub groups: Vec<String>,
    pub login_profiles: Vec<LoginProfileView>,
    pub created_at: String,
    pub updated_at: String,
    pub expiration: String,
    pub etag: String,
}

/// The response for `i`; login profiles carry the name and type of their provider, as in
/// user responses.
pub fn view(state: &AppState, i: &InvitationRecord) -> ApiResult<InvitationView> {
    Ok(InvitationView {
        object: "user-invitation",
        id: i.id.hex(),
        account_id: i.account_id.hex(),
        email: i.email.clone(),
        user_id: i.user_id.hex(),
        groups: i.groups.iter().map(Id::hex).collect(),
        login_profiles: login_profiles_view(state, &i.account_id, &i.login_profiles)?,
        created_at: rfc3339(i.created_at),
        updated_at: rfc3339(i.updated_at),
        expiration: rfc3339(i.expires_at),
        etag: i.etag.to_string(),
    })
}

/// POST /v3/user-invitations
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    body: Json<InvitationCreate>,
) -> ApiResult<HttpResponse> {
    let invitation = invitations::create(&state, &scope, body.0).await?;
    Ok(HttpResponse::Created().json(view(&state, &invitation)?))
}

const FILTERS: &[FilterSpec] = &[FilterSpec {
    field: "login_profiles",
    ops: EQ,
}];

/// GET /v3/user-invitations
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 50, FILTERS)?;
    let page = invitations::list(&state, &scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.try_map(|i| view(&state, &i))?))
}

/// GET /v3/user-invitations/{invitation_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<InvitationId>,
) -> ApiResult<HttpResponse> {
    let invitation = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &invitation)?))
}

/// DELETE /v3/user-invitations/{invitation_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<InvitationId>,
) -> ApiResult<HttpResponse> {
    let invitation = id.find(&state, &scope)?;
    invitations::delete(&state, &scope, &invitation).await?;
    Ok(HttpResponse::NoContent().finish())
}
