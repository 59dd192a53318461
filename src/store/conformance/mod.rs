//! The trait-conformance suite: every store behaviour, run against every engine.
//!
//! Each test takes its stores from [`each_engine`] (or [`on_every_engine`]), so an engine
//! added there (PostgreSQL, next) is held to the whole contract at once: records, secondary
//! indexes, uniqueness, pagination order and cursors, counts, concurrent membership changes
//! and transactions that fail leaving nothing.

mod accounts;
mod apikeys;
mod engine;
mod groups;
mod invitations;
mod transactions;
mod users;

use super::apikeys::ApiKeyRecord;
use super::durability::Written;
use super::groups::GroupRecord;
use super::users::UserRecord;
use super::{Order, Page, PageRequest, Store, StoreResult};
use crate::ids::{AccountId, ApiKeyId, GroupId, Id, UserId};
use crate::status::{ApiKeyStatus, UserStatus};

/// One engine under test: a store over it, and what must outlive the store.
pub struct Subject {
    pub name: &'static str,
    pub store: Store,
    /// Dropped after `store` (fields drop in order), so the database closes first: sled's
    /// directory, PostgreSQL's schema.
    _keep: Box<dyn std::any::Any>,
}

/// Every engine the stores must behave alike on, each with an empty database: sled,
/// memory, and PostgreSQL when `IAMD_TEST_PG_URL` is set (see `postgres::testing`).
pub fn each_engine() -> Vec<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let mut subjects = vec![
        Subject {
            name: "sled",
            store: Store::open(dir.path()).unwrap(),
            _keep: Box::new(dir),
        },
        Subject {
            name: "memory",
            store: Store::memory().unwrap(),
            _keep: Box::new(()),
        },
    ];
    if let Some((engine, schema)) = crate::store::postgres::testing::engine() {
        subjects.push(Subject {
            name: "postgres",
            store: Store::over_engine(std::sync::Arc::new(engine)).unwrap(),
            _keep: Box::new(schema),
        });
    }
    subjects
}

/// Runs `check` on a fresh store over each engine (a failure names the engine on stderr).
pub fn on_every_engine(check: impl Fn(&Store)) {
    for subject in each_engine() {
        eprintln!("-- on the {} engine", subject.name);
        check(&subject.store);
    }
}

/// Waits for a write to be durable, as a handler does.
pub fn done<T>(written: StoreResult<Written<T>>) -> StoreResult<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(written?.durable())
}

pub fn user(account: AccountId, email: &str) -> UserRecord {
    UserRecord::new(account, email.into(), UserStatus::Active)
}

/// A key of `account` with a random digest.
pub fn apikey(account: AccountId, owner: Option<UserId>, groups: &[Id]) -> ApiKeyRecord {
    let mut digest = vec![0u8; 32];
    crate::ids::random_bytes(&mut digest);
    ApiKeyRecord {
        id: ApiKeyId::new(),
        account_id: account,
        name: "key".into(),
        owner,
        status: ApiKeyStatus::Active,
        key_digest: digest,
        groups: groups.to_vec(),
        created_at: 0,
        updated_at: 0,
        etag: 1,
    }
}

pub fn group(account: AccountId, name: &str) -> GroupRecord {
    GroupRecord::new(GroupId::new(), account, name)
}

/// A page request: `limit` items after `after` in `order`, with the total.
pub fn page(limit: usize, after: Option<Id>, order: Order) -> PageRequest {
    PageRequest {
        limit,
        after,
        order,
        want_total: true,
    }
}

/// Everything, with the total.
pub fn all() -> PageRequest {
    PageRequest {
        want_total: true,
        ..PageRequest::all()
    }
}

pub fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> Id) -> Vec<Id> {
    page.items.iter().map(id).collect()
}
