//! List filters as data: a field, an operator and values, which an engine may turn into a
//! query (sled and memory evaluate them in memory, record by record).
//!
//! Each filterable record says what its fields hold ([`Filterable::field_values`]); the
//! handler only parses `field__op=value` into a [`Filter`] (see `api::list`).

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: &'static str,
    pub op: Op,
    /// Lowercased; `__in`/`__nin` hold each comma-separated value. `Eq` with no value
    /// matches nothing.
    pub values: Vec<String>,
}

impl Filter {
    /// `field` equal to `value` (ignoring case).
    pub fn eq(field: &'static str, value: &str) -> Filter {
        Filter {
            field,
            op: Op::Eq,
            values: vec![value.to_lowercase()],
        }
    }

    /// Whether a record whose field has `actual` values passes. Comparison ignores case.
    pub fn accepts(&self, actual: &[String]) -> bool {
        let has = |v: &String| actual.iter().any(|a| a.to_lowercase() == *v);
        match self.op {
            Op::Eq | Op::In => self.values.iter().any(has),
            Op::Neq | Op::Nin => !self.values.iter().any(has),
            Op::Like => self.values.first().is_some_and(|needle| {
                actual
                    .iter()
                    .any(|a| a.to_lowercase().contains(needle.as_str()))
            }),
        }
    }
}

/// A record that list filters can select.
pub trait Filterable {
    /// The values of `field` in this record (none for a field it does not have).
    fn field_values(&self, field: &str) -> Vec<String>;

    /// Whether this record passes `filter`; a record with a field that is not a plain value
    /// (a time window, say) decides here.
    fn accepts(&self, filter: &Filter) -> bool {
        filter.accepts(&self.field_values(filter.field))
    }

    /// Whether this record passes every filter.
    fn matches(&self, filters: &[Filter]) -> bool {
        filters.iter().all(|f| self.accepts(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(Vec<&'static str>);
    impl Filterable for R {
        fn field_values(&self, field: &str) -> Vec<String> {
            match field {
                "tag" => self.0.iter().map(|s| s.to_string()).collect(),
                _ => Vec::new(),
            }
        }
    }

    fn f(op: Op, values: &[&str]) -> Filter {
        Filter {
            field: "tag",
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn operators_compare_ignoring_case() {
        let r = R(vec!["Alpha", "beta"]);
        assert!(r.matches(&[f(Op::Eq, &["alpha"])]));
        assert!(!r.matches(&[f(Op::Neq, &["beta"])]));
        assert!(r.matches(&[f(Op::In, &["x", "beta"])]));
        assert!(r.matches(&[f(Op::Nin, &["x", "y"])]));
        assert!(r.matches(&[f(Op::Like, &["lph"])]));
        assert!(!r.matches(&[f(Op::Eq, &[])]), "no value matches nothing");
        assert!(!r.matches(&[f(Op::Like, &[])]));
        assert!(r.matches(&[]), "no filter keeps everything");
        assert!(!r.matches(&[f(Op::Eq, &["alpha"]), f(Op::Eq, &["x"])]));
        let other = Filter::eq("color", "red");
        assert!(
            !r.matches(&[other]),
            "a field the record lacks has no value"
        );
    }
}
