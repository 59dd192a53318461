//! Paging over keys that end in time-ordered ids: a page is one range scan from the cursor,
//! so its cost depends on the page size (and on how many records a filter skips), never on
//! how many records precede it.

use super::engine::{Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::StoreResult;
use crate::ids::Id;
use std::ops::Bound;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Id>,
    pub order: Order,
    pub want_total: bool,
}

impl PageRequest {
    /// Everything, in creation order (for internal use and small collections).
    pub fn all() -> PageRequest {
        PageRequest {
            limit: usize::MAX,
            after: None,
            order: Order::Asc,
            want_total: false,
        }
    }
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    /// Present when the request asked for it.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_more: self.has_more,
            total: self.total,
        }
    }

    /// `try_map` over borrowed items, for views that borrow their records.
    pub fn try_map_ref<'a, U, E>(
        &'a self,
        f: impl FnMut(&'a T) -> Result<U, E>,
    ) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.iter().map(f).collect::<Result<_, E>>()?,
            has_more: self.has_more,
            total: self.total,
        })
    }

    /// `map` with a conversion that may fail (building views reads other records).
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            has_more: self.has_more,
            total: self.total,
        })
    }
}

/// A page of `account`'s records in `table` of `engine` (keys `account ++ id`) that pass
/// every filter; the unfiltered total is the account's `entity` counter.
pub fn owned_records_in<T: serde::de::DeserializeOwned + Filterable>(
    engine: &dyn Engine,
    table: Table,
    account: &Id,
    entity: &'static str,
    req: &PageRequest,
    filters: &[Filter],
) -> StoreResult<Page<T>> {
    scan(
        engine,
        table,
        account.as_bytes(),
        req,
        !filters.is_empty(),
        |_, v| super::decode(v).map(Some),
        |r: &T| r.matches(filters),
        || counts::get_in(engine, account, entity),
    )
}

/// Scans keys `prefix ++ id` of `table` in `req.order`, starting after `req.after`, keeping
/// the records `keep` accepts. `count_all` gives the unfiltered total cheaply when `keep`
/// accepts everything (`filtered == false`).
#[allow(clippy::too_many_arguments)]
pub fn scan<T>(
    engine: &dyn Engine,
    table: Table,
    prefix: &[u8],
    req: &PageRequest,
    filtered: bool,
    decode: impl Fn(&[u8], &[u8]) -> StoreResult<Option<T>>,
    keep: impl Fn(&T) -> bool,
    count_all: impl FnOnce() -> StoreResult<u64>,
) -> StoreResult<Page<T>> {
    let ids = (None, None);
    scan_within(
        engine, table, prefix, ids, req, filtered, decode, keep, count_all,
    )
}

/// `scan` over the keys `prefix ++ id` with `ids.0 <= id <= ids.1` only (either bound may be
/// absent): a time range of records whose ids are time-ordered, read as a key range, so a
/// page costs O(page) however many records lie outside it. With a bound, `filtered` must
/// be true (the account's counter counts the whole range).
#[allow(clippy::too_many_arguments)]
pub fn scan_within<T>(
    engine: &dyn Engine,
    table: Table,
    prefix: &[u8],
    ids: (Option<Id>, Option<Id>),
    req: &PageRequest,
    filtered: bool,
    decode: impl Fn(&[u8], &[u8]) -> StoreResult<Option<T>>,
    keep: impl Fn(&T) -> bool,
    count_all: impl FnOnce() -> StoreResult<u64>,
) -> StoreResult<Page<T>> {
    let key_of = |id: &Id| super::keys::key(&[prefix, id.as_bytes()]);
    let cursor = req.after.as_ref().map(key_of);
    let (low, high) = (ids.0.as_ref().map(key_of), ids.1.as_ref().map(key_of));
    let whole = super::engine::prefix_range(prefix);
    let (whole_start, whole_end) = super::engine::borrow_range(&whole);
    let start = match &low {
        Some(l) => Bound::Included(&l[..]),
        None => whole_start,
    };
    let end = match &high {
        Some(h) => Bound::Included(&h[..]),
        None => whole_end,
    };
    // The cursor narrows the range only when it lies inside it.
    let range = match (req.order, &cursor) {
        (Order::Asc, Some(c)) if low.as_ref().is_none_or(|l| c >= l) => {
            (Bound::Excluded(&c[..]), end)
        }
        (Order::Desc, Some(c)) if high.as_ref().is_none_or(|h| c <= h) => {
            (start, Bound::Excluded(&c[..]))
        }
        _ => (start, end),
    };
    let mut items = Vec::new();
    let mut has_more = false;
    let mut matched: u64 = 0;
    for entry in engine.range(table, range, req.order) {
        let (k, v) = entry?;
        let Some(item) = decode(&k, &v)? else {
            continue;
        };
        if !keep(&item) {
            continue;
        }
        matched += 1;
        if items.len() < req.limit {
            items.push(item);
        } else {
            has_more = true;
            if !(req.want_total && filtered) {
                break;
            }
        }
    }
    let total = if !req.want_total {
        None
    } else if filtered {
        // Counted during the scan, but only from the cursor on: recount from the start.
        if req.after.is_some() {
            let mut n = 0;
            for entry in engine.range(table, (start, end), Order::Asc) {
                let (k, v) = entry?;
                if let Some(item) = decode(&k, &v)? {
                    if keep(&item) {
                        n += 1;
                    }
                }
            }
            Some(n)
        } else {
            Some(matched)
        }
    } else {
        Some(count_all()?)
    };
    Ok(Page {
        items,
        has_more,
        total,
    })
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Per-account record counters, kept in the same transaction as the records.
pub mod counts {
    use super::*;

    fn counter_key(account: &Id, entity: &str) -> Vec<u8> {
        super::super::keys::owned_text(account, entity)
    }

    /// Adds `delta` to the account's `entity` counter inside a transaction.
    pub fn add_in(tx: &dyn Tx, account: &Id, entity: &str, delta: i64) -> StoreResult<()> {
        tx.add(Table::AccountCounts, &counter_key(account, entity), delta)
    }

    /// The account's `entity` counter.
    pub fn get_in(engine: &dyn Engine, account: &Id, entity: &str) -> StoreResult<u64> {
        let raw = engine.get(Table::AccountCounts, &counter_key(account, entity))?;
        Ok(raw.map(|v| read_u64(&v)).unwrap_or(0))
    }

    fn read_u64(raw: &[u8]) -> u64 {
        raw.try_into().map(u64::from_be_bytes).unwrap_or(0)
    }
}
