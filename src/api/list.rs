//! List conventions: `limit`, `after`, `order`, `include` and the `field__op` filters each
//! operation allows (its `x-filter` in the spec); the `list` response body.

use crate::error::ApiError;
use crate::ids::Id;
pub use crate::store::filter::{Filter, Op};
use crate::store::{Order, Page, PageRequest};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// One filterable field of an operation and the operators it takes.
pub struct FilterSpec {
    pub field: &'static str,
    pub ops: &'static [Op],
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: PageRequest,
    pub filters: Vec<Filter>,
    /// `include` items other than `total_count`.
    pub include: Vec<String>,
}

fn bad(name: &str, message: &str) -> ApiError {
    ApiError::field(name, message.to_string())
}

impl ListQuery {
    /// Parses the query string of `req` for an operation with `default_limit` and `allowed`
    /// filters. Bad values and unknown `field__op` parameters are 400 naming the parameter.
    /// An empty value is a parameter not given (generated clients send every parameter,
    /// `status__eq=&limit=`): no filter, the default limit and order.
    pub fn parse(
        req: &HttpRequest,
        default_limit: usize,
        allowed: &[FilterSpec],
    ) -> Result<ListQuery, ApiError> {
        Self::parse_query(req.query_string(), default_limit, allowed)
    }

    /// [`ListQuery::parse`] over a raw query string (no leading `?`).
    pub fn parse_query(
        query: &str,
        default_limit: usize,
        allowed: &[FilterSpec],
    ) -> Result<ListQuery, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::BadRequest("The query string is malformed.".into()))?;
        let mut q = ListQuery {
            page: PageRequest {
                limit: default_limit,
                after: None,
                order: Order::Asc,
                want_total: true,
            },
            filters: Vec::new(),
            include: Vec::new(),
        };
        for (name, value) in pairs {
            let empty = value.trim().is_empty();
            match name.as_str() {
                "limit" | "order" | "after" | "include" if empty => {}
                "limit" => {
                    q.page.limit = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (2..=1000).contains(n))
                        .ok_or_else(|| bad("limit", "Must be an integer between 2 and 1000."))?;
                }
                "after" => {
                    q.page.after = Some(
                        Id::parse(&value).ok_or_else(|| bad("after", "Must be an entity id."))?,
                    );
                }
                "order" => {
                    q.page.order = match value.to_ascii_uppercase().as_str() {
                        "ASC" => Order::Asc,
                        "DESC" => Order::Desc,
                        _ => return Err(bad("order", "Must be ASC or DESC.")),
                    }
                }
                "include" => {
                    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        if item != "total_count" {
                            q.include.push(item.to_string());
                        }
                    }
                }
                _ => {
                    if let Some((field, op)) = name.rsplit_once("__") {
                        // An unknown field or operator is refused even when empty.
                        if let Some(filter) = parse_filter(&name, field, op, &value, allowed)? {
                            q.filters.push(filter);
                        }
                    }
                }
            }
        }
        Ok(q)
    }

    pub fn is_filtered(&self) -> bool {
        !self.filters.is_empty()
    }

    pub fn includes(&self, item: &str) -> bool {
        self.include.iter().any(|i| i == item)
    }

    /// The `list` response for `page`.
    pub fn respond<T: Serialize>(&self, page: Page<T>) -> HttpResponse {
        let body = ListBody {
            object: "list",
            limit: self.page.limit,
            order: self.page.order.as_str(),
            after: self.page.after.map(|a| a.hex()),
            has_more: page.has_more,
            total_count: page.total.unwrap_or(page.items.len() as u64),
            data: page.items,
        };
        super::body::json_response(HttpResponse::Ok(), &body)
    }
}

fn parse_filter(
    name: &str,
    field: &str,
    op: &str,
    value: &str,
    allowed: &[FilterSpec],
) -> Result<Option<Filter>, ApiError> {
    let spec = allowed.iter().find(|s| s.field == field).ok_or_else(|| {
        bad(
            name,
            &format!("Filtering on '{field}' is not supported here."),
        )
    })?;
    let op = Op::parse(op)
        .filter(|o| spec.ops.contains(o))
        .ok_or_else(|| {
            bad(
                name,
                &format!("Operator '{op}' is not supported for '{field}'."),
            )
        })?;
    let values: Vec<String> = match op {
        Op::In | Op::Nin => value
            .split(',')
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .collect(),
        _ => vec![value.to_lowercase()],
    };
    if values.iter().all(|v| v.trim().is_empty()) {
        return Ok(None);
    }
    Ok(Some(Filter {
        field: spec.field,
        op,
        values,
    }))
}

#[derive(Serialize)]
struct ListBody<T> {
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
    limit: usize,
    order: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    total_count: u64,
}

/// `x-filter` shorthands.
pub const EQ: &[Op] = &[Op::Eq];
pub const EQ_NEQ: &[Op] = &[Op::Eq, Op::Neq];
pub const EQ_IN_NIN: &[Op] = &[Op::Eq, Op::In, Op::Nin];
pub const LIKE: &[Op] = &[Op::Like];
