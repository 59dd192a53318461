//! The storage engine boundary: what an engine provides, and nothing of any one engine.
//!
//! An engine keeps a fixed set of [`Table`]s, each an ordered map from byte keys to byte
//! values, and runs transactions over all of them. Everything above this boundary (records,
//! secondary indexes, counters, uniqueness, pagination) is written once, against [`Engine`]
//! and [`Tx`], so every engine keeps exactly the same invariants and a conformance suite
//! (`store::conformance`) can hold each engine to the same contract:
//!
//! - [`Engine::transact`] is atomic and serializable: its writes all land or none do, and
//!   concurrent transactions behave as if run one at a time. It may run `work` more than
//!   once (an engine with optimistic concurrency retries on conflict), so `work` must act only
//!   through its `Tx`.
//! - Reads outside a transaction ([`Engine::get`], [`Engine::range`]) see committed data.
//!   Ranges are ordered by key and lazy: a page of a list costs what the page costs, not
//!   what the table holds.
//! - A committed transaction is acknowledged to a client only after [`Engine::durable`]:
//!   durability is the engine's promise (sled: a group-committed flush; memory: none to
//!   give).
//!
//! The boundary is synchronous on purpose: the engines behind it (sled, memory) answer from
//! memory in microseconds, and an async trait would cost every read a boxed future. Only
//! `durable` is async, since it waits for a disk while the worker serves others. A networked
//! engine (PostgreSQL) blocks the calling worker for each round trip; a server on it runs
//! as many workers as calls may wait at once ([`Engine::default_workers`]), so a slow
//! database holds up the requests that wait on it, not the others (see `postgres`).

#[cfg(test)]
mod bench;
mod memory;
pub mod read_ahead;
#[cfg(test)]
mod testing;

pub use self::memory::MemoryEngine;
#[cfg(test)]
pub use self::testing::{test_engines, Keep};
pub use super::postgres::PostgresEngine;

pub use super::durability::Durability;
use super::page::Order;
use super::{StoreError, StoreResult};
use std::ops::Bound;

/// The tables every engine keeps. The names are the sled tree names of earlier releases, so
/// a data directory keeps its layout, and backups name tables by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// "schema_version" -> u32 BE; "root_account" -> account id.
    Meta,
    /// account -> AccountRecord
    AccountidAccount,
    /// parent ++ child -> ()
    ParentidAccountid,
    /// alias bytes -> account id (aliases are unique across the server)
    AliasAccountid,
    /// account ++ user -> UserRecord
    UseridUser,
    /// account ++ lowercase email -> user id
    EmailUserid,
    /// account ++ lowercase username -> user id
    UsernameUserid,
    /// account ++ key -> ApiKeyRecord
    ApikeyidApikey,
    /// SHA-256 of the full key -> account ++ key
    KeyhashApikeyid,
    /// account ++ owner user ++ key -> ()
    OwneridApikeyid,
    /// account ++ group -> GroupRecord
    GroupidGroup,
    /// account ++ group name -> group id
    GroupnameGroupid,
    /// account ++ group ++ kind byte ++ member -> ()
    GroupidMemberid,
    /// account ++ member ++ group -> ()
    MemberidGroupid,
    /// account ++ subject -> i64 BE milliseconds (batched, see lastlogin)
    SubjectidLastlogin,
    /// account ++ entity name -> u64 BE record count (so an unfiltered total_count is O(1))
    AccountCounts,
    /// account ++ invitation -> InvitationRecord
    InvitationidInvitation,
    /// SHA-256 of the acceptance token -> account ++ invitation
    TokenhashInvitationid,
    /// account ++ identity provider -> IdentityProviderRecord
    IdpidIdp,
    /// account ++ notification -> NotificationRecord
    NotificationidNotification,
    /// "bootstrap" | "lwm2m" -> ServerCaRecord (holds CA private keys)
    CanameServerca,
    /// account ++ cert -> TrustedCertRecord
    CertidCert,
    /// account ++ certificate name -> cert id
    CertnameCertid,
    /// account ++ leaf subject (RFC 4514) -> cert id
    CertsubjectCertid,
    /// account ++ cert -> DeveloperKeyRecord (developer certificates only)
    CertidDevkey,
    /// account ++ theme byte (l|d) ++ color reference -> ColorRecord (own values only)
    BrandingcolorColor,
    /// account ++ theme byte (l|d) ++ image reference -> ImageRecord (own values only)
    BrandingimageImage,
    /// content name (sha256 hex + extension) -> raw image bytes, served verbatim
    ImagenameBlob,
    /// content name -> u64 BE number of ImageRecords pointing at it
    ImagenameRefcount,
    // -- sign-in tables (see store::signin) --
    /// account ++ subject (user or API key) ++ session -> SessionRecord
    SessionidSession,
    /// SHA-256 of the session token -> account ++ subject ++ session
    TokenhashSessionid,
    /// account ++ user -> the last login attempts (newest first)
    UseridLoginhistory,
    /// account ++ user -> TotpRecord
    UseridTotp,
    /// SHA-256 of a password-reset or email-verification token -> AuthTokenRecord
    TokenhashAuthtoken,
    /// account ++ identity provider -> u64 BE, bumped by every write that gives a user the provider as a login profile (so a delete can tell that one happened since its scan)
    IdpidStamp,
    /// account ++ audit entry (time-ordered id) -> AuditRecord
    AuditEntry,
}

impl Table {
    pub const ALL: [Table; 36] = [
        Table::Meta,
        Table::AccountidAccount,
        Table::ParentidAccountid,
        Table::AliasAccountid,
        Table::UseridUser,
        Table::EmailUserid,
        Table::UsernameUserid,
        Table::ApikeyidApikey,
        Table::KeyhashApikeyid,
        Table::OwneridApikeyid,
        Table::GroupidGroup,
        Table::GroupnameGroupid,
        Table::GroupidMemberid,
        Table::MemberidGroupid,
        Table::SubjectidLastlogin,
        Table::AccountCounts,
        Table::InvitationidInvitation,
        Table::TokenhashInvitationid,
        Table::IdpidIdp,
        Table::NotificationidNotification,
        Table::CanameServerca,
        Table::CertidCert,
        Table::CertnameCertid,
        Table::CertsubjectCertid,
        Table::CertidDevkey,
        Table::BrandingcolorColor,
        Table::BrandingimageImage,
        Table::ImagenameBlob,
        Table::ImagenameRefcount,
        Table::SessionidSession,
        Table::TokenhashSessionid,
        Table::UseridLoginhistory,
        Table::UseridTotp,
        Table::TokenhashAuthtoken,
        Table::IdpidStamp,
        Table::AuditEntry,
    ];

    /// The table's position in [`Table::ALL`] (engines index their tables by it).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::AccountidAccount => "accountid_account",
            Table::ParentidAccountid => "parentid_accountid",
            Table::AliasAccountid => "alias_accountid",
            Table::UseridUser => "userid_user",
            Table::EmailUserid => "email_userid",
            Table::UsernameUserid => "username_userid",
            Table::ApikeyidApikey => "apikeyid_apikey",
            Table::KeyhashApikeyid => "keyhash_apikeyid",
            Table::OwneridApikeyid => "ownerid_apikeyid",
            Table::GroupidGroup => "groupid_group",
            Table::GroupnameGroupid => "groupname_groupid",
            Table::GroupidMemberid => "groupid_memberid",
            Table::MemberidGroupid => "memberid_groupid",
            Table::SubjectidLastlogin => "subjectid_lastlogin",
            Table::AccountCounts => "account_counts",
            Table::InvitationidInvitation => "invitationid_invitation",
            Table::TokenhashInvitationid => "tokenhash_invitationid",
            Table::IdpidIdp => "idpid_idp",
            Table::NotificationidNotification => "notificationid_notification",
            Table::CanameServerca => "caname_serverca",
            Table::CertidCert => "certid_cert",
            Table::CertnameCertid => "certname_certid",
            Table::CertsubjectCertid => "certsubject_certid",
            Table::CertidDevkey => "certid_devkey",
            Table::BrandingcolorColor => "brandingcolor_color",
            Table::BrandingimageImage => "brandingimage_image",
            Table::ImagenameBlob => "imagename_blob",
            Table::ImagenameRefcount => "imagename_refcount",
            Table::SessionidSession => "sessionid_session",
            Table::TokenhashSessionid => "tokenhash_sessionid",
            Table::UseridLoginhistory => "userid_loginhistory",
            Table::UseridTotp => "userid_totp",
            Table::TokenhashAuthtoken => "tokenhash_authtoken",
            Table::IdpidStamp => "idpid_stamp",
            Table::AuditEntry => "audit_entry",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// [`Tx::claim`] answered at once (a read, then the write): the default, and what an
/// engine that defers claims still does where it cannot.
pub fn claim_at_once<T: Tx + ?Sized>(
    tx: &T,
    table: Table,
    key: &[u8],
    value: &[u8],
    taken: StoreError,
) -> StoreResult<()> {
    if tx.get(table, key)?.is_some() {
        return Err(taken);
    }
    tx.put(table, key, value)
}

/// The reads and writes of one transaction. Reads see the transaction's own writes.
pub trait Tx {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()>;
    fn delete(&self, table: Table, key: &[u8]) -> StoreResult<()>;

    /// Writes `value` under `key`, which must be free: if it is taken, the transaction fails
    /// with `taken` and writes nothing. `work` does not learn the answer before the commit,
    /// so an engine may send the insert with the commit and let the database's unique index
    /// refuse it there (PostgreSQL: one round trip less per create). `work` must not count
    /// on the key being its own before the commit.
    fn claim(&self, table: Table, key: &[u8], value: &[u8], taken: StoreError) -> StoreResult<()> {
        claim_at_once(self, table, key, value, taken)
    }

    /// Reads the keys that start with `prefix`, for the transaction's sake only: a
    /// concurrent transaction that writes such a key and read something this one writes
    /// conflicts with it, and one of the two is run again (a user's delete watches the keys
    /// it owns, so a key create that read the user before the delete cannot commit after
    /// it). An engine whose transactions run one at a time (sled, memory) has nothing to
    /// do; one whose transactions overlap reads the range under its isolation (PostgreSQL,
    /// SERIALIZABLE: the read's predicate lock). No default: a new engine must say which.
    fn watch_prefix(&self, table: Table, prefix: &[u8]) -> StoreResult<()>;

    /// Adds `delta` to the counter under `key` (a u64, big-endian; absent or malformed: 0),
    /// never going below 0. The counter's value is not read here, so an engine may apply it
    /// without a read (PostgreSQL, for `AccountCounts`: concurrent creates in one account
    /// all add to its counters, and must not conflict over them).
    fn add(&self, table: Table, key: &[u8], delta: i64) -> StoreResult<()> {
        let current = self.get(table, key)?.map_or(0, |v| counter_value(&v));
        let next = (current as i64).saturating_add(delta).max(0) as u64;
        self.put(table, key, &next.to_be_bytes())
    }
}

/// The value of a counter as [`Tx::add`] keeps it (malformed: 0).
pub fn counter_value(raw: &[u8]) -> u64 {
    raw.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// One key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A lazy, ordered run of entries.
pub type Entries<'a> = Box<dyn Iterator<Item = StoreResult<Entry>> + 'a>;

/// A key range: `(start, end)` bounds, `start <= end` in key order.
pub type KeyRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// An engine; its `Durability` says when a commit is durable (sled: a group-committed
/// flush; memory: at once).
pub trait Engine: Durability {
    /// The engine's name in logs and `/health` ("sled", "memory").
    fn name(&self) -> &'static str;

    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// The values of `keys`, in order, fetched at once, for an engine whose reads each wait
    /// on a network (see `read_ahead`); `None` for one that answers `get` from memory.
    fn get_many(&self, _keys: &[(Table, Vec<u8>)]) -> StoreResult<Option<Vec<Option<Vec<u8>>>>> {
        Ok(None)
    }

    /// Whether reading keys ahead with [`Engine::get_many`] pays (see `read_ahead`).
    fn reads_ahead(&self) -> bool {
        false
    }

    /// The entries of `range`, ascending or descending by key.
    fn range(&self, table: Table, range: KeyRange<'_>, order: Order) -> Entries<'_>;

    /// Runs `work` as one atomic, serializable transaction over every table (see the module
    /// comment). An `Err` from `work` aborts it with nothing written and is returned.
    fn transact_dyn(&self, work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>) -> StoreResult<()>;

    /// Writes everything committed to disk now (shutdown, offline tools).
    fn flush(&self) -> StoreResult<()>;

    /// A mark of the committed data: it changes whenever a commit (or a reopening of the
    /// database) may have changed what a read answers, so a cache above the engine
    /// (`auth::callers`) may keep what it read under one mark while the mark stays the same.
    /// `None`: the engine gives no such mark and nothing is kept above it (PostgreSQL, where
    /// other nodes commit unseen, keeps a read cache of its own).
    fn generation(&self) -> Option<Generation> {
        None
    }

    /// Whether a write may start now: the engine is in service and has room (at least
    /// `min_free_bytes` free where it keeps its files). The error says why not, for the
    /// client.
    fn writable(&self, _min_free_bytes: u64) -> Result<(), String> {
        Ok(())
    }

    /// How many HTTP workers a server on this engine runs on `cores` cores when `workers =
    /// 0`. `None`: one per core, for an engine that answers from memory or a local disk. An
    /// engine whose calls wait on a network names how many calls may wait at once (see
    /// `postgres`).
    fn default_workers(&self, _cores: usize) -> Option<usize> {
        None
    }

    /// Records, durably and once, that this database is initialised (holds a root
    /// account), so that a later start can tell a lost database from a first start.
    fn mark_initialised(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// What [`Engine::generation`] returns: the engine (a number no other engine of this
/// process has, so marks of two engines never match) and its count of commits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Generation {
    pub engine: u64,
    pub commits: u64,
}

/// A number for a new engine's [`Generation`]s, unique in this process.
pub fn engine_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// [`Engine::transact_dyn`] with a result: the value of the run that committed.
pub fn transact<R>(
    engine: &dyn Engine,
    mut work: impl FnMut(&dyn Tx) -> StoreResult<R>,
) -> StoreResult<R> {
    let mut out = None;
    engine.transact_dyn(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| StoreError::Backend("the transaction did not run".into()))
}

/// The record stored under `key` in `table`, decoded.
pub fn read<T: serde::de::DeserializeOwned>(
    engine: &dyn Engine,
    table: Table,
    key: &[u8],
) -> StoreResult<Option<T>> {
    engine
        .get(table, key)?
        .map(|raw| super::decode(&raw))
        .transpose()
}

/// The record stored under `key` in `table`, decoded, read inside a transaction.
pub fn read_in<T: serde::de::DeserializeOwned>(
    tx: &dyn Tx,
    table: Table,
    key: &[u8],
) -> StoreResult<Option<T>> {
    tx.get(table, key)?
        .map(|raw| super::decode(&raw))
        .transpose()
}

/// The keys of `table` that start with `prefix`, in order (read outside a transaction:
/// engines cannot all scan inside one).
pub fn keys_with_prefix(
    engine: &dyn Engine,
    table: Table,
    prefix: &[u8],
) -> StoreResult<Vec<Vec<u8>>> {
    let range = prefix_range(prefix);
    engine
        .range(table, borrow_range(&range), Order::Asc)
        .map(|entry| entry.map(|(k, _)| k))
        .collect()
}

/// Every key that starts with `prefix`, as a range.
pub fn prefix_range(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let end = match super::page::prefix_end(prefix) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix.to_vec()), end)
}

/// Borrows an owned range as a [`KeyRange`].
pub fn borrow_range(range: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> KeyRange<'_> {
    (borrow_bound(&range.0), borrow_bound(&range.1))
}

fn borrow_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}
