//! The client credentials grant (RFC 6749 §4.4) for an API key: its id is the key's public
//! part (what responses show as `key`), its secret the full key or the part after the
//! public one. The token is a short-lived `rt_` session with the key's rights, read with
//! the key on every request (see `auth::session`).

use crate::auth::login::ClientInfo;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{apikey, session};
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::service::audit;
use crate::state::AppState;
use crate::store::signin::{SessionKind, SessionRecord};

const WRONG: &str = "The client credentials are wrong.";

/// A token and its lifetime in seconds.
pub struct ClientToken {
    pub token: String,
    pub expires_in: i64,
}

/// The full key text that `client_id` and `secret` name, if they fit together.
fn full_key(client_id: &str, secret: &str) -> Option<String> {
    apikey::parse(client_id)?;
    let full = if secret.starts_with(client_id) {
        secret.to_string()
    } else {
        format!("{client_id}{secret}")
    };
    (full.len() == apikey::FULL_LEN && apikey::parse(&full).is_some()).then_some(full)
}

/// POST /auth/token: a token for the key `client_id` names, if `secret` is its secret.
/// Wrong credentials count against the client id and address (`throttle`).
pub async fn issue(
    state: &AppState,
    throttle: &LoginThrottle,
    client_id: &str,
    secret: &str,
    client: &ClientInfo,
    request: &crate::service::audit::RequestInfo,
) -> ApiResult<ClientToken> {
    if let Some(secs) = throttle.locked(None, client_id, client.ip) {
        return Err(ApiError::TooManyRequests(secs));
    }
    let found = match full_key(client_id, secret) {
        Some(full) => {
            let digest = apikey::digest(&full);
            state
                .store
                .apikeys
                .by_digest(&digest)?
                .filter(|k| apikey::constant_time_eq(&k.key_digest, &digest))
        }
        None => None,
    };
    let Some(key) = found else {
        throttle.failure(None, client_id, client.ip);
        return Err(ApiError::Unauthorized(WRONG.into()));
    };
    // The key's own rules (active, its owner active): refused as a request with it would be.
    let caller = crate::auth::key_caller(key.clone(), state)?;
    let (token, digest) = session::issue();
    let now = state.config.auth.clock.now_millis();
    let lifetime = state.config.auth.client_token_secs as i64;
    let record = SessionRecord {
        id: Id::new(),
        account_id: caller.account.id,
        subject: key.id.id(),
        kind: SessionKind::Client,
        token_digest: digest,
        login_time: now,
        last_used: now,
        expires_at: now + lifetime * 1000,
        password_epoch: None,
        key_digest: Some(key.key_digest.clone()),
        ip_address: client.ip_text(),
        user_agent: client.user_agent.clone(),
    };
    // A sign-in of the key: the key is the actor (as on its requests) and the target.
    let grant = audit::change("grant_type", None, Some(&"client_credentials"));
    let target = ("api-key", &key.id.id());
    let entry = audit::entry_by(
        &caller,
        request,
        key.account_id,
        "login",
        target,
        vec![grant],
    );
    state
        .store
        .signin
        .sessions
        .create_with(&record, &|tx| crate::store::audit::record_in(tx, &entry))?
        .durable()
        .await?;
    Ok(ClientToken {
        token,
        expires_in: lifetime,
    })
}
