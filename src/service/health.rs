//! The server's own state, for `GET /health`.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Whether the first-start bootstrap ran; 503 while the store cannot take writes (a full
/// or failing disk).
pub fn check(state: &AppState) -> ApiResult<bool> {
    let min_free = state.config.limits.min_free_disk_bytes;
    state
        .store
        .writable(min_free)
        .map_err(ApiError::Unavailable)?;
    Ok(state.store.root_account()?.is_some())
}

/// The storage engine's name ("sled", "memory", "postgres").
pub fn engine(state: &AppState) -> &'static str {
    state.store.engine.name()
}
