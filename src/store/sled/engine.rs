//! The embedded default engine: one sled tree per table in `<data_dir>/db`.
//!
//! A transaction spans every tree (sled runs one at a time and retries `work` on a
//! conflict; readers wait only while its writes are applied, vendor/sled/PATCHED.md
//! patch 5; a tree it does not write costs it next to nothing, patch 6); a commit is made
//! durable by the group-commit flusher (`store::durability`), so concurrent writers share
//! one flush. Every call goes through the live handle (`store::live`), so the engine
//! follows the database when a disk failure reopens it.

use super::{Commit, TreeSet, Trees};
use crate::store::durability::Durability;
use crate::store::engine::{Engine, Entries, Generation, KeyRange, Table, Tx};
use crate::store::page::Order;
use crate::store::{StoreError, StoreResult};
use ::sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};
use ::sled::Transactional;
use futures_util::future::BoxFuture;
use std::cell::RefCell;
use std::sync::Mutex;

pub struct SledEngine {
    trees: Trees,
    commit: Commit,
    /// The scan after the start, if one runs: stopped and joined when the engine goes, so
    /// that the database is closed once the last store is dropped.
    scan: Mutex<Option<super::Scan>>,
    /// This engine's number in its [`Generation`]s.
    number: u64,
}

impl SledEngine {
    /// The engine over the live database handle; `commit` makes its writes durable.
    pub fn new(trees: Trees, commit: Commit) -> SledEngine {
        SledEngine {
            trees,
            commit,
            scan: Mutex::new(None),
            number: crate::store::engine::engine_number(),
        }
    }

    /// The live database handle.
    pub fn trees(&self) -> &Trees {
        &self.trees
    }

    /// Reads every record now and compares the counters with them (offline tools: a
    /// restore proves what it restored readable). Damage is `StoreError::Damaged`.
    pub fn check_records(&self) -> StoreResult<()> {
        let log = self.trees.dir().join("db").join("db");
        let open = self.trees.get()?;
        let report = super::integrity::catch_panic(&log, || {
            Ok(super::verify::check(&open, super::verify::Depth::Records))
        })?;
        match report.problems.first() {
            None => Ok(()),
            Some(first) => Err(super::integrity::damaged(
                &log,
                format!("{first} ({} problems in all)", report.problem_count),
            )),
        }
    }

    /// Reads every record in the background (see `sled::scan_in_background`).
    pub fn scan_in_background(&self) {
        let log = self.trees.dir().join("db").join("db");
        let scan = super::scan_in_background(self.trees.clone(), log);
        *self.scan.lock().unwrap_or_else(|p| p.into_inner()) = scan;
    }
}

impl Drop for SledEngine {
    fn drop(&mut self) {
        if let Some(scan) = self.scan.lock().unwrap_or_else(|p| p.into_inner()).take() {
            scan.stop();
        }
    }
}

/// The entries of `range` in `tree`, in `order`.
fn sled_entries(tree: &::sled::Tree, range: KeyRange<'_>, order: Order) -> Entries<'static> {
    let iter = tree.range::<&[u8], _>(range);
    let entry = |r: ::sled::Result<(::sled::IVec, ::sled::IVec)>| {
        r.map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(StoreError::from)
    };
    match order {
        Order::Asc => Box::new(iter.map(entry)),
        Order::Desc => Box::new(iter.rev().map(entry)),
    }
}

/// The tree that keeps `table` (the tree of the same name).
fn tree(set: &TreeSet, table: Table) -> &::sled::Tree {
    match table {
        Table::Meta => &set.meta,
        Table::AccountidAccount => &set.accountid_account,
        Table::ParentidAccountid => &set.parentid_accountid,
        Table::AliasAccountid => &set.alias_accountid,
        Table::UseridUser => &set.userid_user,
        Table::EmailUserid => &set.email_userid,
        Table::UsernameUserid => &set.username_userid,
        Table::ApikeyidApikey => &set.apikeyid_apikey,
        Table::KeyhashApikeyid => &set.keyhash_apikeyid,
        Table::OwneridApikeyid => &set.ownerid_apikeyid,
        Table::GroupidGroup => &set.groupid_group,
        Table::GroupnameGroupid => &set.groupname_groupid,
        Table::GroupidMemberid => &set.groupid_memberid,
        Table::MemberidGroupid => &set.memberid_groupid,
        Table::SubjectidLastlogin => &set.subjectid_lastlogin,
        Table::AccountCounts => &set.account_counts,
        Table::InvitationidInvitation => &set.invitationid_invitation,
        Table::TokenhashInvitationid => &set.tokenhash_invitationid,
        Table::IdpidIdp => &set.idpid_idp,
        Table::NotificationidNotification => &set.notificationid_notification,
        Table::CanameServerca => &set.caname_serverca,
        Table::CertidCert => &set.certid_cert,
        Table::CertnameCertid => &set.certname_certid,
        Table::CertsubjectCertid => &set.certsubject_certid,
        Table::CertidDevkey => &set.certid_devkey,
        Table::BrandingcolorColor => &set.brandingcolor_color,
        Table::BrandingimageImage => &set.brandingimage_image,
        Table::ImagenameBlob => &set.imagename_blob,
        Table::ImagenameRefcount => &set.imagename_refcount,
        Table::SessionidSession => &set.sessionid_session,
        Table::TokenhashSessionid => &set.tokenhash_sessionid,
        Table::UseridLoginhistory => &set.userid_loginhistory,
        Table::UseridTotp => &set.userid_totp,
        Table::TokenhashAuthtoken => &set.tokenhash_authtoken,
        Table::IdpidStamp => &set.idpid_stamp,
        Table::AuditEntry => &set.audit_entry,
    }
}

struct SledTx<'a> {
    views: &'a [TransactionalTree],
}

fn in_tx(e: UnabortableTransactionError) -> StoreError {
    match e {
        UnabortableTransactionError::Conflict => StoreError::Retry,
        UnabortableTransactionError::Storage(e) => e.into(),
    }
}

impl Tx for SledTx<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let found = self.views[table.index()].get(key).map_err(in_tx)?;
        Ok(found.map(|v| v.to_vec()))
    }

    /// Without reading the value it replaces (`set`, vendor/sled/PATCHED.md patch 4).
    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.views[table.index()].set(key, value);
        Ok(())
    }

    fn delete(&self, table: Table, key: &[u8]) -> StoreResult<()> {
        self.views[table.index()].unset(key);
        Ok(())
    }

    /// Nothing: sled runs one transaction at a time (each holds its writer lock from before
    /// `work` runs to after its commit), so no other commits while this one runs.
    fn watch_prefix(&self, _table: Table, _prefix: &[u8]) -> StoreResult<()> {
        Ok(())
    }
}

impl Engine for SledEngine {
    fn name(&self) -> &'static str {
        "sled"
    }

    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let open = self.trees.get()?;
        Ok(tree(&open, table).get(key)?.map(|v| v.to_vec()))
    }

    fn range(&self, table: Table, range: KeyRange<'_>, order: Order) -> Entries<'_> {
        match self.trees.get() {
            // The iterator keeps its tree (and so the database it belongs to) alive itself.
            Ok(open) => sled_entries(tree(&open, table), range, order),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn transact_dyn(&self, work: &mut dyn FnMut(&dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        // sled wants a `Fn` it may call again on a conflict; the cell lends it our `FnMut`.
        let work = RefCell::new(work);
        let _writing = self.trees.writing();
        let open = self.trees.get()?;
        let all: Vec<::sled::Tree> = Table::ALL.iter().map(|t| tree(&open, *t).clone()).collect();
        all[..]
            .transaction(|views| {
                let tx = SledTx { views };
                match (work.borrow_mut())(&tx) {
                    Ok(()) => Ok(()),
                    Err(StoreError::Retry) => Err(ConflictableTransactionError::Conflict),
                    Err(e) => Err(ConflictableTransactionError::Abort(e)),
                }
            })
            .map_err(StoreError::from)
    }

    fn flush(&self) -> StoreResult<()> {
        self.trees.flush()
    }

    /// Every transaction that ended, and every reopening (which may lose writes that were
    /// never flushed), changes it. A transaction ends after its commit and before the
    /// request that made it is answered.
    fn generation(&self) -> Option<Generation> {
        Some(Generation {
            engine: self.number,
            commits: self.trees.generation(),
        })
    }

    fn writable(&self, min_free_bytes: u64) -> Result<(), String> {
        self.trees.writable(min_free_bytes)
    }

    fn mark_initialised(&self) -> StoreResult<()> {
        self.trees.mark_initialised()
    }
}

impl Durability for SledEngine {
    fn durable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(self.commit.durable())
    }
}
