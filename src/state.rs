//! What every handler can reach: the store, the configuration and the email outbox.

use crate::config::Config;
use crate::email::outbox::Outbox;
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub outbox: Arc<Outbox>,
}
