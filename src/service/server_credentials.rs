//! Server credentials: what devices need to reach and trust iamd's bootstrap and LwM2M
//! servers (the CA certificates generated at first start and the configured URIs). They
//! hold nothing secret: the CA private keys never leave the store.

use crate::ids::Id;
use crate::state::AppState;
use crate::store::certificates::{ServerCaEntry, ServerCaKind};

/// `uri` with the account appended as `aid`, as the real service hands it to devices.
pub fn with_account(uri: &str, account: &Id) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}aid={}", account.hex())
}

/// The server URI of `kind` for devices of `account`.
pub fn server_uri(state: &AppState, kind: ServerCaKind, account: &Id) -> String {
    let base = match kind {
        ServerCaKind::Bootstrap => state.config.bootstrap_server_uri(),
        ServerCaKind::Lwm2m => state.config.lwm2m_server_uri(),
    };
    with_account(&base, account)
}

/// The CA of server `kind`.
pub fn server_ca(state: &AppState, kind: ServerCaKind) -> ServerCaEntry {
    state.store.certificates.server_ca(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aid_is_appended_as_a_query_parameter() {
        let id = Id::parse("015843e32ec902420a015e0700000000").unwrap();
        assert_eq!(
            with_account("coaps://h:5684", &id),
            "coaps://h:5684?aid=015843e32ec902420a015e0700000000"
        );
        assert_eq!(
            with_account("coaps://h:5684?x=1", &id),
            "coaps://h:5684?x=1&aid=015843e32ec902420a015e0700000000"
        );
    }
}
