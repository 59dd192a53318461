//! The `AccountScope` extractor: the account a request acts on, decided in one place for
//! both route families (the type itself, what services are given, is `service::scope`). `/v3/x` acts on the caller's own account; `/v3/accounts/{account_id}/x` on a
//! sub-tenant, allowed only for admins of its parent aggregator. An account that is not the
//! caller's to manage is 404, exactly like an unknown id, so tenant ids cannot be probed.

use super::path::PathParam;
use crate::error::ApiError;
use crate::ids::AccountId;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

pub use crate::service::scope::{require_tenant_manager, AccountScope};

pub fn resolve(req: &HttpRequest, state: &AppState) -> Result<AccountScope, ApiError> {
    let mut scope = resolve_account(req, state)?;
    scope.request = request_info(req);
    Ok(scope)
}

/// Where `req` came from, for the audit entries of the changes it makes.
pub fn request_info(req: &HttpRequest) -> crate::service::audit::RequestInfo {
    crate::service::audit::RequestInfo {
        ip_address: req.peer_addr().map(|a| a.ip()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
        request_id: super::request_id::current_id(),
        at: req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.auth.clock.now_millis()),
    }
}

fn resolve_account(req: &HttpRequest, state: &AppState) -> Result<AccountScope, ApiError> {
    let caller = crate::auth::authenticate(req, state)?;
    if req.match_info().get(AccountId::SEGMENT).is_none() {
        return Ok(AccountScope {
            request: Default::default(),
            account: caller.account.clone(),
            caller,
            tenant: false,
        });
    }
    require_tenant_manager(&caller)?;
    let not_found = super::path::not_found::<AccountId>;
    let id: AccountId = super::path::segment(req)?.ok_or_else(not_found)?;
    crate::service::scope::tenant(state, caller, id)?.ok_or_else(not_found)
}

impl FromRequest for AccountScope {
    type Error = ApiError;
    type Future = Ready<Result<AccountScope, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => resolve(req, state),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}

/// An `AccountScope` whose caller has admin rights in it; anyone else gets 403.
pub struct AdminScope(pub AccountScope);

impl std::ops::Deref for AdminScope {
    type Target = AccountScope;
    fn deref(&self) -> &AccountScope {
        &self.0
    }
}

impl FromRequest for AdminScope {
    type Error = ApiError;
    type Future = Ready<Result<AdminScope, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => resolve(req, state).and_then(|scope| {
                scope.require_admin()?;
                Ok(AdminScope(scope))
            }),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}
