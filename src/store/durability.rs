//! When a committed write may be acknowledged: each engine keeps its own promise (sled: a
//! group-committed flush, see `sled::flusher`; memory: at once), and a store hands the
//! caller a [`Written`] that resolves once it is kept.

use super::StoreResult;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// What makes committed writes durable (`engine::Engine` has it as a supertrait).
pub trait Durability: Send + Sync {
    /// Resolves once everything committed before the call is durable.
    fn durable(&self) -> BoxFuture<'_, StoreResult<()>>;
}

/// A committed but not yet durable write. Respond to the client only after `durable()`.
#[must_use = "a write is acknowledged only after `.durable().await`"]
pub struct Written<T> {
    value: T,
    durability: Arc<dyn Durability>,
}

impl<T> Written<T> {
    /// `value`, committed by a transaction that `durability` will make durable.
    pub fn new(value: T, durability: Arc<dyn Durability>) -> Written<T> {
        Written { value, durability }
    }

    pub async fn durable(self) -> StoreResult<T> {
        self.durability.durable().await?;
        Ok(self.value)
    }
}
