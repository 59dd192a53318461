//! List filters as data: a field, an operator and the values a request gave
//! (`status__in=ACTIVE,RESET`). `api::list` parses them from the query string; the list
//! services hold the record-side rules (which values a record has for a field).
//!
//! The "store" work moves these into `store/filter.rs` so that an engine can turn them
//! into a query; until then they live here, outside `api/`, because services use them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Neq,
    In,
    Nin,
    Like,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            "in" => Op::In,
            "nin" => Op::Nin,
            "like" => Op::Like,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub field: &'static str,
    pub op: Op,
    /// Lowercased; `__in`/`__nin` hold each comma-separated value.
    pub values: Vec<String>,
}

impl Filter {
    /// Whether a record whose field has `actual` values passes. Comparison ignores case.
    pub fn accepts(&self, actual: &[String]) -> bool {
        let has = |v: &String| actual.iter().any(|a| a.to_lowercase() == *v);
        match self.op {
            Op::Eq | Op::In => self.values.iter().any(has),
            Op::Neq | Op::Nin => !self.values.iter().any(has),
            Op::Like => {
                let needle = &self.values[0];
                actual
                    .iter()
                    .any(|a| a.to_lowercase().contains(needle.as_str()))
            }
        }
    }
}

/// Whether a record passes every filter; `values` gives a field's values for it.
pub fn accepts(filters: &[Filter], values: impl Fn(&str) -> Vec<String>) -> bool {
    filters.iter().all(|f| f.accepts(&values(f.field)))
}
