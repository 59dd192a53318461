//! Records are bincode with a leading format-version byte, so a later release can tell old
//! layouts apart and migrate them (see `migrations`).

use super::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The record layout this release writes.
pub const RECORD_VERSION: u8 = 1;

pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    bincode::serialize_into(&mut out, record).expect("records always serialize");
    out
}

pub fn decode<T: DeserializeOwned>(raw: &[u8]) -> StoreResult<T> {
    match raw.split_first() {
        Some((&RECORD_VERSION, body)) => bincode::deserialize(body)
            .map_err(|e| StoreError::Backend(format!("unreadable record: {e}"))),
        Some((v, _)) => Err(StoreError::Backend(format!(
            "record format {v} is not known to this release"
        ))),
        None => Err(StoreError::Backend("empty record".into())),
    }
}

/// The record stored under `k` in `tree`, if any.
pub fn read<T: DeserializeOwned>(tree: &sled::Tree, k: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
    tree.get(k)?.map(|raw| decode(&raw)).transpose()
}
