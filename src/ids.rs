//! Entity ids: 16 bytes shown as 32 lowercase hex characters.
//!
//! The first 6 bytes are milliseconds since the epoch and the other 10 are random, so byte
//! order is creation order: `order` and the `after` cursor of every list are plain range
//! scans over keys that end in an id. Ids made in the same millisecond by this process
//! still increase (the random tail is incremented), so creation order is exact.
//! Hand-written rather than `uuid`'s v7: the API's ids are 32 bare hex digits with no version
//! bits, and v7 leaves strict order within a millisecond optional where the cursors need it.
//!
//! Each entity has its own id type ([`UserId`], [`GroupId`], ...), a zero-cost newtype over
//! [`Id`]: a user id cannot be passed where a group id is expected. None has a `Default`:
//! a default id would be a fresh random one, made wherever a record is filled with
//! `..Default::default()`; every id is made on purpose with `new` or read with `parse`.

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use std::sync::Mutex;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub [u8; 16]);

static LAST: Mutex<[u8; 16]> = Mutex::new([0; 16]);
/// The sequence number of [`Id::at`]'s ids.
static AT_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Fills `buf` with cryptographically secure random bytes.
pub fn random_bytes(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random source failed");
}

impl Id {
    /// A fresh id, later than every id this process made before. (No `Default` on purpose:
    /// see the module comment.)
    #[allow(clippy::new_without_default)]
    pub fn new() -> Id {
        let mut bytes = [0u8; 16];
        let ms = crate::clock::now_millis() as u64;
        bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        random_bytes(&mut bytes[6..]);
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        if bytes <= *last {
            // Same millisecond (or a clock step back): continue from the last id.
            bytes = *last;
            for i in (0..16).rev() {
                bytes[i] = bytes[i].wrapping_add(1);
                if bytes[i] != 0 {
                    break;
                }
            }
        }
        *last = bytes;
        Id(bytes)
    }

    /// A fresh id of the instant `millis` (an audit entry's, whose time comes from its
    /// server's clock, which a test may move): the millisecond, then a sequence number of
    /// this process (ids of one millisecond keep their creation order), then 4 random
    /// bytes. Unlike `new` it never continues from an earlier id, so the time in the id
    /// is always `millis` (another server of the process may be at another time).
    pub fn at(millis: i64) -> Id {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&(millis.max(0) as u64).to_be_bytes()[2..]);
        let n = AT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[6..12].copy_from_slice(&n.to_be_bytes()[2..]);
        random_bytes(&mut bytes[12..]);
        Id(bytes)
    }

    /// The millisecond an id was made in (its first 6 bytes).
    pub fn millis(&self) -> i64 {
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&self.0[..6]);
        u64::from_be_bytes(ms) as i64
    }

    /// The least (`last == false`) or greatest (`last == true`) id of the millisecond
    /// `millis`: the bounds of a time range over keys that end in ids.
    pub fn bound_of(millis: i64, last: bool) -> Id {
        let mut bytes = [if last { 0xff } else { 0 }; 16];
        bytes[..6].copy_from_slice(&(millis.max(0) as u64).to_be_bytes()[2..]);
        Id(bytes)
    }

    /// Parses exactly 32 hex digits (either case).
    pub fn parse(text: &str) -> Option<Id> {
        let raw = text.as_bytes();
        if raw.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        HEXLOWER_PERMISSIVE.decode_mut(raw, &mut bytes).ok()?;
        Some(Id(bytes))
    }

    pub fn from_slice(raw: &[u8]) -> Option<Id> {
        raw.try_into().ok().map(Id)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lowercase hex. (A hand-written loop saved ~10 ns an id over data-encoding: too little
    /// to show in any request, so not worth a copy of hex.)
    pub fn hex(&self) -> String {
        HEXLOWER.encode(&self.0)
    }

    /// [`Id::hex`] on the stack, for writing an id out without a `String`.
    pub fn with_hex<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let mut buf = [0u8; 32];
        HEXLOWER.encode_mut(&self.0, &mut buf);
        f(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_hex(|hex| f.write_str(hex))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_hex(|hex| f.write_str(hex))
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            // Views serialize their ids (and group ids) directly: no `String` per id.
            self.with_hex(|hex| s.serialize_str(hex))
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Id::parse(&s).ok_or_else(|| serde::de::Error::custom("not a 32-hex-digit id"))
        } else {
            let v = <[u8; 16]>::deserialize(d)?;
            Ok(Id(v))
        }
    }
}

/// Declares entity id types: newtypes over [`Id`] with the same text and byte forms
/// (`serde(transparent)`, so records that held an `Id` decode unchanged). They deref to
/// [`Id`] so the storage layer, which keys every entity alike, takes any of them; nothing
/// converts one entity's id into another's.
macro_rules! entity_ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Id);

        impl $name {
            /// A fresh id (see [`Id::new`]).
            #[allow(clippy::new_without_default)]
            pub fn new() -> $name {
                $name(Id::new())
            }

            /// Parses exactly 32 hex digits (either case).
            pub fn parse(text: &str) -> Option<$name> {
                Id::parse(text).map($name)
            }

            /// Names a stored id as this entity's: for ids read back from storage keys, where
            /// the key's table says which entity they belong to.
            pub const fn from_id(id: Id) -> $name {
                $name(id)
            }

            pub const fn id(self) -> Id {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = Id;
            fn deref(&self) -> &Id {
                &self.0
            }
        }

        impl From<$name> for Id {
            fn from(id: $name) -> Id {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    )*};
}

entity_ids! {
    /// An account (the caller's own or a sub-tenant).
    AccountId;
    /// A user of an account.
    UserId;
    /// An API key.
    ApiKeyId;
    /// A policy group.
    GroupId;
    /// A user invitation.
    InvitationId;
    /// An identity provider (a user's login profile names one).
    IdentityProviderId;
    /// A trusted certificate; a developer certificate is one too, with the same id.
    CertificateId;
    /// A notification (the log entry of a sent email).
    NotificationId;
}

/// A request id: 32 lowercase hex digits, kept as bytes. Every request gets one (the
/// `X-Request-Id` header, error bodies, the request log, the audit entries it writes), and a
/// `String` (made, cloned, dropped) per request cost more than all of those uses; only what
/// keeps the id (an error body, an audit entry) turns it into one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 32]);

impl RequestId {
    /// The id whose hex digits are `hex` (lowercase ASCII, as `HEXLOWER` writes them).
    pub fn from_hex(hex: [u8; 32]) -> Self {
        RequestId(hex)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_at_an_instant_carry_it_and_keep_their_order_within_it() {
        let (a, b) = (Id::at(1_700_000_000_123), Id::at(1_700_000_000_123));
        assert!(a < b);
        assert_eq!(
            (a.millis(), b.millis()),
            (1_700_000_000_123, 1_700_000_000_123)
        );
        // An earlier instant made later is still earlier: the time is never moved.
        let earlier = Id::at(1_600_000_000_000);
        assert_eq!(earlier.millis(), 1_600_000_000_000);
        assert!(earlier < a);
        assert!(Id::bound_of(1_700_000_000_123, false) < a);
        assert!(b < Id::bound_of(1_700_000_000_123, true));
        assert!(Id::bound_of(1_700_000_000_122, true) < a);
    }

    #[test]
    fn ids_increase_and_round_trip() {
        let ids: Vec<Id> = (0..1000).map(|_| Id::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let text = ids[0].hex();
        assert_eq!(text.len(), 32);
        assert!(text
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(Id::parse(&text), Some(ids[0]));
        assert_eq!(Id::parse(&text.to_uppercase()), Some(ids[0]));
        assert_eq!(Id::parse("xyz"), None);
        assert_eq!(Id::parse(&"g".repeat(32)), None);
        assert_eq!(ids[0].to_string(), text);
        assert_eq!(
            serde_json::to_string(&ids[0]).unwrap(),
            format!("\"{text}\"")
        );
    }

    #[test]
    fn entity_ids_encode_exactly_as_the_plain_id() {
        let id = Id::new();
        let user = UserId::from_id(id);
        assert_eq!(
            bincode::serialize(&user).unwrap(),
            bincode::serialize(&id).unwrap()
        );
        assert_eq!(
            bincode::deserialize::<UserId>(&bincode::serialize(&id).unwrap()).unwrap(),
            user
        );
        assert_eq!(
            serde_json::to_string(&user).unwrap(),
            format!("\"{}\"", id.hex())
        );
        assert_eq!(user.to_string(), id.hex());
        assert_eq!(UserId::parse(&id.hex()), Some(user));
        assert_eq!(UserId::parse("nope"), None);
        assert_eq!(Id::from(user), id);
    }
}
