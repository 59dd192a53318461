//! Tenant accounts: an aggregator's sub-tenants (`/v3/accounts`, `/v3/accounts/{account_id}`).
//!
//! Who may is decided by `scope`: only admins of an aggregator account, and only for the
//! accounts they are parent of (or their own); other account ids are 404 like unknown ones.
//! What creating a tenant makes is in `service::accounts`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ, EQ_IN_NIN, LIKE};
use super::scope::{require_tenant_manager, AccountScope};
use super::views::accounts::{include_param, view};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::accounts::{self, AccountCreate, AccountUpdate};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::future::{ready, Ready};

/// A caller allowed to manage sub-tenants (`require_tenant_manager`), checked before the
/// body is read so that anyone else gets 403 whatever they send.
pub struct TenantManager(pub Caller);

impl FromRequest for TenantManager {
    type Error = ApiError;
    type Future = Ready<Result<TenantManager, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => crate::auth::authenticate(req, state).and_then(|caller| {
                require_tenant_manager(&caller)?;
                Ok(TenantManager(caller))
            }),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}

#[derive(Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    pub action: Option<String>,
}

/// POST /v3/accounts
pub async fn create(
    state: web::Data<AppState>,
    TenantManager(caller): TenantManager,
    params: web::Query<CreateParams>,
    body: Json<AccountCreate>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let action = params.action.as_deref().unwrap_or("create");
    let request = super::scope::request_info(&req);
    let created = accounts::create_tenant(&state, &caller, &request, action, body.0).await?;
    let admin = created.admin;
    // An admin linked to an existing user keeps that user's status and password.
    if action == "enroll" && admin.status == crate::status::UserStatus::Enrolling {
        let by = (&caller, &request);
        crate::service::signin::enroll::send(&state, &created.account, &admin, by).await?;
    }
    let mut v = view(&state, &created.account, &[])?;
    v.admin_id = Some(admin.id.hex());
    v.admin_key = Some(created.admin_key);
    v.admin_name = admin.username;
    v.admin_email = Some(admin.email);
    v.admin_full_name = admin.full_name;
    v.admin_password = created.generated_password;
    Ok(HttpResponse::Created()
        .insert_header(super::headers::no_store())
        .json(v))
}

/// The filters of `GET /v3/accounts` (`x-filter`).
const ACCOUNT_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "status",
        ops: EQ_IN_NIN,
    },
    FilterSpec {
        field: "tier",
        ops: EQ,
    },
    FilterSpec {
        field: "parent",
        ops: EQ,
    },
    FilterSpec {
        field: "end_market",
        ops: EQ,
    },
    FilterSpec {
        field: "country",
        ops: LIKE,
    },
];

/// GET /v3/accounts
///
/// The caller's sub-tenants (its own account is `/v3/accounts/me`).
pub async fn list(
    state: web::Data<AppState>,
    TenantManager(caller): TenantManager,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 1000, ACCOUNT_FILTERS)?;
    let page = accounts::list_tenants(&state, &caller, &q.page, &q.filters)?;
    let include: Vec<&str> = q.include.iter().map(String::as_str).collect();
    Ok(q.respond(page.try_map(|a| view(&state, &a, &include))?))
}

/// GET /v3/accounts/{account_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let include = include_param(&req);
    let include: Vec<&str> = include.iter().map(String::as_str).collect();
    Ok(HttpResponse::Ok().json(view(&state, &scope.account, &include)?))
}

/// PUT /v3/accounts/{account_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<AccountUpdate>,
) -> ApiResult<HttpResponse> {
    let updated = accounts::update_tenant(&state, &scope, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated, &[])?))
}
