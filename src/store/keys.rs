//! Composite keys: every part is fixed-width (16-byte ids, 1-byte kinds) except an optional
//! trailing text part, so prefixes and range scans are exact.

use crate::ids::Id;

/// Concatenates key parts: `key(&[a.as_bytes(), b.as_bytes()])`.
pub fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// `account ++ id`: the primary key of every per-account entity.
pub fn owned(account: &Id, id: &Id) -> Vec<u8> {
    key(&[account.as_bytes(), id.as_bytes()])
}

/// `account ++ text`: unique-name indexes (emails, usernames, group names).
pub fn owned_text(account: &Id, text: &str) -> Vec<u8> {
    key(&[account.as_bytes(), text.as_bytes()])
}

/// The last 16 bytes of a key, as an id.
pub fn tail_id(raw: &[u8]) -> Option<Id> {
    raw.len()
        .checked_sub(16)
        .and_then(|start| Id::from_slice(&raw[start..]))
}
