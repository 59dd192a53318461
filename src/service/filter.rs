//! List filters as data: a field, an operator and the values a request gave
//! (`status__in=ACTIVE,RESET`). `api::list` parses them from the query string; the store
//! applies them (see `store::filter`: each record says what its fields hold, so an engine
//! may turn a filter into a query). Services pass them through, and filter here only what
//! is not a stored record (a page of members built from two tables).

pub use crate::store::filter::{Filter, Op};

/// Whether a value passes every filter; `values` gives a field's values for it.
pub fn accepts(filters: &[Filter], values: impl Fn(&str) -> Vec<String>) -> bool {
    filters.iter().all(|f| f.accepts(&values(f.field)))
}
