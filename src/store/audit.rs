//! The audit trail: one entry per change, written by the change's own transaction
//! (`record_in`), so there is never a change without its entry nor an entry without its
//! change. Keys are `account ++ entry id`; entry ids are time-ordered, so a log reads in
//! time order and the oldest entries are the first of each account's range (the purge).

use super::engine::{borrow_range, prefix_range, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::keys::owned;
use super::page::{counts, scan_within, Order, Page, PageRequest};
use super::{decode, encode, StoreResult};
use crate::ids::{AccountId, Id};
use serde::{Deserialize, Serialize};

const ENTITY: &str = "audit";

/// One changed field: its values before and after, as JSON text (`None`: absent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: Id,
    pub account_id: AccountId,
    pub created_at: i64,
    /// "user" | "api-key" | "system"
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub fields: Vec<FieldChange>,
}

impl Filterable for AuditRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "actor_id" => self.actor_id.iter().cloned().collect(),
            "target_type" => vec![self.target_type.clone()],
            "target_id" => vec![self.target_id.clone()],
            "action" => vec![self.action.clone()],
            _ => Vec::new(),
        }
    }
}

/// Writes `entry` inside the transaction of the change it records.
pub fn record_in(tx: &dyn Tx, entry: &AuditRecord) -> StoreResult<()> {
    tx.put(
        Table::AuditEntry,
        &owned(&entry.account_id, &entry.id),
        &encode(entry),
    )?;
    counts::add_in(tx, &entry.account_id, ENTITY, 1)
}

/// The entries of `account`, filtered by `filters` and by `created_at` within
/// `[from, to]` (milliseconds, inclusive). An entry's `created_at` is its id's time, so
/// the time range is a key range: a page reads only entries inside it.
pub fn list(
    engine: &dyn Engine,
    account: &Id,
    page: &PageRequest,
    filters: &[Filter],
    created: (Option<i64>, Option<i64>),
) -> StoreResult<Page<AuditRecord>> {
    let (from, to) = created;
    let filtered = !filters.is_empty() || from.is_some() || to.is_some();
    let ids = (
        from.map(|f| Id::bound_of(f, false)),
        to.map(|t| Id::bound_of(t, true)),
    );
    scan_within(
        engine,
        Table::AuditEntry,
        account.as_bytes(),
        ids,
        page,
        filtered,
        |_, v| decode(v).map(Some),
        |r: &AuditRecord| r.matches(filters),
        || counts::get_in(engine, account, ENTITY),
    )
}

/// Deletes the entries of every account older than `before` (milliseconds), in batches;
/// returns how many went. Each account's oldest entries lead its range, so the scan stops
/// at the first entry young enough.
pub fn purge(engine: &dyn Engine, before: i64) -> StoreResult<u64> {
    let mut accounts: Vec<Id> = Vec::new();
    let all = prefix_range(&[]);
    for entry in engine.range(Table::AccountidAccount, borrow_range(&all), Order::Asc) {
        let (k, _) = entry?;
        if let Some(id) = Id::from_slice(&k) {
            accounts.push(id);
        }
    }
    let mut gone = 0;
    for account in accounts {
        loop {
            let whole = prefix_range(account.as_bytes());
            let mut old = Vec::new();
            for entry in engine.range(Table::AuditEntry, borrow_range(&whole), Order::Asc) {
                let (k, v) = entry?;
                let rec: AuditRecord = decode(&v)?;
                if rec.created_at >= before || old.len() >= 500 {
                    break;
                }
                old.push(k);
            }
            if old.is_empty() {
                break;
            }
            let n = old.len();
            super::engine::transact(engine, |tx| {
                for k in &old {
                    tx.delete(Table::AuditEntry, k)?;
                }
                counts::add_in(tx, &account, ENTITY, -(n as i64))
            })?;
            gone += n as u64;
            if n < 500 {
                break;
            }
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::engine::{transact, MemoryEngine};

    fn entry(account: AccountId, created_at: i64) -> AuditRecord {
        let id = Id::at(created_at);
        AuditRecord {
            id,
            account_id: account,
            created_at: id.millis(),
            actor_type: "system".into(),
            actor_id: None,
            actor_name: None,
            ip_address: None,
            user_agent: None,
            request_id: None,
            action: "update".into(),
            target_type: "user".into(),
            target_id: Id::new().hex(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn the_purge_deletes_only_entries_older_than_the_limit_and_keeps_the_count() {
        let engine = MemoryEngine::new();
        let account = AccountId::new();
        transact(&engine, |tx| {
            tx.put(Table::AccountidAccount, account.as_bytes(), b"x")
        })
        .unwrap();
        for created_at in [100, 200, 300, 400] {
            transact(&engine, |tx| record_in(tx, &entry(account, created_at))).unwrap();
        }
        assert_eq!(purge(&engine, 300).unwrap(), 2);
        let all = PageRequest {
            want_total: true,
            ..PageRequest::all()
        };
        let left = list(&engine, &account, &all, &[], (None, None)).unwrap();
        let times: Vec<i64> = left.items.iter().map(|e| e.created_at).collect();
        assert_eq!(times, vec![300, 400]);
        assert_eq!(left.total, Some(2));
        let ranged = list(&engine, &account, &all, &[], (Some(350), None)).unwrap();
        assert_eq!(ranged.items.len(), 1);
    }

    #[test]
    fn a_time_range_reads_only_the_entries_inside_it() {
        let engine = MemoryEngine::new();
        let account = AccountId::new();
        // Entries outside the range are unreadable: a scan that touched one would fail.
        for t in [100, 199, 401, 500] {
            let key = owned(&account, &Id::at(t));
            transact(&engine, |tx| {
                tx.put(Table::AuditEntry, &key, b"not an entry")
            })
            .unwrap();
        }
        for t in [200, 300, 300, 400] {
            transact(&engine, |tx| record_in(tx, &entry(account, t))).unwrap();
        }
        let page = |after: Option<Id>, order: Order| PageRequest {
            limit: 2,
            after,
            order,
            want_total: true,
        };
        let range = (Some(200), Some(400));
        let first = list(&engine, &account, &page(None, Order::Asc), &[], range).unwrap();
        let times: Vec<i64> = first.items.iter().map(|e| e.created_at).collect();
        assert_eq!(
            (times, first.has_more, first.total),
            (vec![200, 300], true, Some(4))
        );
        let after = first.items.last().map(|e| e.id);
        let rest = list(&engine, &account, &page(after, Order::Asc), &[], range).unwrap();
        let times: Vec<i64> = rest.items.iter().map(|e| e.created_at).collect();
        assert_eq!((times, rest.has_more), (vec![300, 400], false));
        let desc = list(&engine, &account, &page(None, Order::Desc), &[], range).unwrap();
        assert_eq!(desc.items[0].created_at, 400);
        assert!(list(
            &engine,
            &account,
            &page(None, Order::Asc),
            &[],
            (None, None)
        )
        .is_err());
    }
}
