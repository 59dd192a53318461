//! Records are bincode with a leading format-version byte, so a later release can tell old
//! layouts apart and migrate them (see `migrations`).

use super::engine::{Engine, Table};
use super::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// Decoded records by the bytes they were decoded from. Authentication reads the same API
/// key and account records on every request, and decoding them was most of its cost. An
/// entry is used only when the stored bytes are still identical (so a changed record is
/// never served stale, with no invalidation to forget), and readers share the decoded value.
pub struct DecodeCache<T> {
    /// By table key.
    entries: Mutex<HashMap<Vec<u8>, Decoded<T>>>,
}

/// The stored bytes and the record decoded from them.
type Decoded<T> = (Vec<u8>, Arc<T>);

/// Entries kept before the cache starts over (bounds its memory: records are small).
const DECODE_CACHE_ENTRIES: usize = 4096;

impl<T: DeserializeOwned> DecodeCache<T> {
    pub fn new() -> DecodeCache<T> {
        DecodeCache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The record stored under `k` in `table` of `engine`, if any, decoded once per
    /// stored version.
    pub fn read(&self, engine: &dyn Engine, table: Table, k: &[u8]) -> StoreResult<Option<Arc<T>>> {
        let Some(raw) = engine.get(table, k)? else {
            return Ok(None);
        };
        let lock = || self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((bytes, record)) = lock().get(k) {
            if *bytes == raw {
                return Ok(Some(record.clone()));
            }
        }
        let record = Arc::new(decode::<T>(&raw)?);
        let mut entries = lock();
        if entries.len() >= DECODE_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(k.to_vec(), (raw, record.clone()));
        Ok(Some(record))
    }
}

impl<T: DeserializeOwned> Default for DecodeCache<T> {
    fn default() -> Self {
        DecodeCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::engine::{transact, MemoryEngine};

    #[test]
    fn the_decode_cache_follows_the_stored_bytes() {
        let engine = MemoryEngine::new();
        let t = Table::Meta;
        let put = |v: &str| transact(&engine, |tx| tx.put(t, b"k", &encode(&v.to_string())));
        let cache = DecodeCache::<String>::new();
        assert!(cache.read(&engine, t, b"k").unwrap().is_none());
        put("one").unwrap();
        let first = cache.read(&engine, t, b"k").unwrap().unwrap();
        assert_eq!(*first, "one");
        let again = cache.read(&engine, t, b"k").unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &again), "decoded once");
        put("two").unwrap();
        assert_eq!(*cache.read(&engine, t, b"k").unwrap().unwrap(), "two");
        transact(&engine, |tx| tx.delete(t, b"k")).unwrap();
        assert!(cache.read(&engine, t, b"k").unwrap().is_none());
    }
}
