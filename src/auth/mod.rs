//! Authentication: who is calling, decided once per request by the `Caller` extractor.

pub mod apikey;
pub mod password;

use crate::error::ApiError;
use crate::ids::Id;
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use crate::store::apikeys::ApiKeyRecord;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};
use std::sync::Arc;

/// The authenticated caller: its account, the API key it used and that key's owner.
/// Extractors hand out copies of it (and of its account) on every request: the records are
/// shared, not cloned field by field.
#[derive(Clone)]
pub struct Caller {
    pub account: Arc<AccountRecord>,
    pub apikey: Arc<ApiKeyRecord>,
    /// Member of the account's `Administrators` group.
    pub is_admin: bool,
}

impl Caller {
    /// The user the caller acts for (the key's owner).
    pub fn user_id(&self) -> Option<Id> {
        self.apikey.owner
    }

    pub fn account_id(&self) -> Id {
        self.account.id
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized(message.into())
}

/// Resolves the `Authorization: Bearer ak_...` header. Reads only; the last-use time is
/// noted in memory (see `store::lastlogin`). Refused credentials count against the client
/// address (`ratelimit`): past the limit they are answered 429 instead of 401.
pub fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(caller) = req.extensions().get::<Caller>() {
        return Ok(caller.clone());
    }
    match check_key(req, state) {
        Err(ApiError::Unauthorized(m)) if req.headers().contains_key(header::AUTHORIZATION) => {
            let limiter = req.app_data::<web::Data<crate::ratelimit::AuthLimiter>>();
            match (limiter, req.peer_addr()) {
                (Some(limiter), Some(peer)) => match limiter.failure(peer.ip()) {
                    Some(secs) => Err(ApiError::TooManyRequests(secs)),
                    None => Err(ApiError::Unauthorized(m)),
                },
                _ => Err(ApiError::Unauthorized(m)),
            }
        }
        other => other,
    }
}

fn check_key(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("Authorization header is missing."))?
        .to_str()
        .map_err(|_| unauthorized("Authorization header is malformed."))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim();
    if apikey::parse(token).is_none() || token.len() != apikey::FULL_LEN {
        return Err(unauthorized("The API key is malformed."));
    }
    let digest = apikey::digest(token);
    let key = state
        .store
        .apikeys
        .by_digest(&digest)?
        .filter(|k| apikey::constant_time_eq(&k.key_digest, &digest))
        .ok_or_else(|| unauthorized("The API key is not valid."))?;
    if key.status != "ACTIVE" {
        return Err(unauthorized("The API key is not active."));
    }
    let account = state
        .store
        .accounts
        .get_shared(&key.account_id)?
        .ok_or_else(|| unauthorized("The API key's account no longer exists."))?;
    let now = crate::clock::now_millis();
    let used = std::iter::once(key.id).chain(key.owner);
    state.store.last_login.touch(&account.id, used, now);
    let caller = Caller {
        is_admin: key.groups.contains(&account.admin_group),
        account,
        apikey: key,
    };
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => authenticate(req, state),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}
