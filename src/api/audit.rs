//! The audit trail: `GET /v3/audit-logs` and, through `AccountScope`,
//! `GET /v3/accounts/{account_id}/audit-logs` (a tenant's own log, read by its
//! aggregator's admins). Admins only. `format=jsonl` streams the whole log as JSON Lines.

use super::list::{FilterSpec, ListQuery, Op};
use super::scope::AdminScope;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::ids::AccountId;
use crate::service::audit;
use crate::state::AppState;
use crate::store::audit::AuditRecord;
use crate::store::PageRequest;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "actor_id",
        ops: &[Op::Eq],
    },
    FilterSpec {
        field: "target_type",
        ops: &[Op::Eq],
    },
    FilterSpec {
        field: "target_id",
        ops: &[Op::Eq],
    },
    FilterSpec {
        field: "action",
        ops: &[Op::Eq, Op::In],
    },
];

/// `audit-log-entry`.
pub fn view(r: &AuditRecord) -> Value {
    let value = |v: &Option<String>| match v {
        Some(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        None => Value::Null,
    };
    let fields: Vec<Value> = r
        .fields
        .iter()
        .map(|f| json!({"field": f.field, "old_value": value(&f.old_value), "new_value": value(&f.new_value)}))
        .collect();
    json!({
        "object": "audit-log-entry",
        "id": r.id.hex(),
        "account_id": r.account_id.hex(),
        "created_at": rfc3339(r.created_at),
        "actor": {"type": r.actor_type, "id": r.actor_id, "name": r.actor_name},
        "ip_address": r.ip_address,
        "user_agent": r.user_agent,
        "request_id": r.request_id,
        "action": r.action,
        "target_type": r.target_type,
        "target_id": r.target_id,
        "fields": fields,
    })
}

/// GET /v3/audit-logs
pub async fn list(
    state: web::Data<AppState>,
    scope: AdminScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    // `created_at__gte`/`__lte` and `format` are this route's own; the rest follows the
    // list conventions.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::BadRequest("The query string is malformed.".into()))?;
    let (mut from, mut to, mut jsonl) = (None, None, false);
    let mut rest = Vec::new();
    for (name, value) in pairs {
        let time = |v: &str| {
            parse_rfc3339(v).ok_or_else(|| ApiError::field(&name, "Must be an RFC 3339 date-time."))
        };
        match name.as_str() {
            _ if value.trim().is_empty() => {}
            "created_at__gte" => from = Some(time(&value)?),
            "created_at__lte" => to = Some(time(&value)?),
            "format" => match value.as_str() {
                "json" => {}
                "jsonl" => jsonl = true,
                _ => return Err(ApiError::field("format", "Must be json or jsonl.")),
            },
            _ => rest.push((name, value)),
        }
    }
    let query = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let q = ListQuery::parse_query(&query, 50, FILTERS)?;
    if jsonl {
        return Ok(HttpResponse::Ok()
            .content_type("application/x-ndjson")
            .streaming(export(state, scope.id(), q, (from, to))));
    }
    let page = audit::list(&state, &scope.id(), &q.page, &q.filters, (from, to))?;
    Ok(q.respond(page.map(|r| view(&r))))
}

/// `format=jsonl`: the whole log (from `after`, within the filters and the time range), one
/// entry a line, read from the store a page (`limit` entries) at a time as the client
/// takes the body: never the whole log in memory, however long it is.
fn export(
    state: web::Data<AppState>,
    account: AccountId,
    q: ListQuery,
    created: (Option<i64>, Option<i64>),
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    let first = PageRequest {
        want_total: false,
        ..q.page
    };
    futures_util::stream::unfold(Some(first), move |next| {
        let (state, filters) = (state.clone(), q.filters.clone());
        async move {
            let mut page = next?;
            let read = audit::list(&state, &account, &page, &filters, created);
            let found = match read {
                Ok(found) => found,
                // Too late for an error status: the body ends short, and the log says why.
                Err(e) => {
                    log::error!("audit export of {account} stopped: {e}");
                    return Some((Err(std::io::Error::other(e.to_string())), None));
                }
            };
            let mut lines = String::new();
            for r in &found.items {
                lines.push_str(&view(r).to_string());
                lines.push('\n');
            }
            page.after = found.items.last().map(|r| r.id);
            let more = found.has_more && page.after.is_some();
            Some((Ok(web::Bytes::from(lines)), more.then_some(page)))
        }
    })
}
