//! `GroupSummary`.

use crate::clock::rfc3339;
use crate::store::groups::GroupRecord;
use serde::Serialize;

/// `GroupSummary`.
#[derive(Serialize)]
pub struct GroupView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub user_count: u32,
    pub apikey_count: u32,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
}

pub fn view(g: &GroupRecord) -> GroupView {
    GroupView {
        object: "group",
        id: g.id.hex(),
        account_id: g.account_id.hex(),
        name: g.name.clone(),
        user_count: g.user_count,
        apikey_count: g.apikey_count,
        created_at: rfc3339(g.created_at),
        updated_at: rfc3339(g.updated_at),
        etag: g.etag.to_string(),
    }
}
