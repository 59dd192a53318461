//! `ApiKeyInfoResp`.

use crate::auth::apikey;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::ids::Id;
use crate::state::AppState;
use crate::status::ApiKeyStatus;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::page::Page;
use serde::Serialize;

/// `ApiKeyInfoResp`.
#[derive(Serialize)]
pub struct ApiKeyView {
    pub object: &'static str,
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// The full key only in the responses that create it or reset its secret; otherwise
    /// the non-secret part.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub status: ApiKeyStatus,
    pub groups: Vec<String>,
    pub created_at: String,
    pub creation_time: i64,
    pub updated_at: String,
    /// 0 until the key is first used (the document's examples always carry it).
    pub last_login_time: i64,
    pub etag: String,
}

/// The views of a page of keys, their last logins fetched at once (one round trip on
/// PostgreSQL instead of one per key).
pub fn views(state: &AppState, page: Page<ApiKeyRecord>) -> ApiResult<Page<ApiKeyView>> {
    crate::service::apikeys::with_view_reads(state, &page.items, || {
        page.try_map_ref(|k| view(state, k, None))
    })
}

pub fn view(state: &AppState, k: &ApiKeyRecord, full_key: Option<&str>) -> ApiResult<ApiKeyView> {
    let last_login = crate::service::users::last_login_time(state, &k.account_id, &k.id)?;
    Ok(view_with(k, full_key, last_login))
}

/// The view of a key its request created: it has never been used, so nothing more is read
/// (on PostgreSQL, a round trip saved per create).
pub fn view_created(k: &ApiKeyRecord, full_key: &str) -> ApiKeyView {
    view_with(k, Some(full_key), 0)
}

fn view_with(k: &ApiKeyRecord, full_key: Option<&str>, last_login_time: i64) -> ApiKeyView {
    ApiKeyView {
        object: "api-key",
        id: k.id.hex(),
        account_id: k.account_id.hex(),
        name: k.name.clone(),
        key: full_key
            .map(str::to_string)
            .unwrap_or_else(|| apikey::public_part(&k.account_id, &k.id)),
        owner: k.owner.map(|o| o.hex()),
        status: k.status,
        groups: k.groups.iter().map(Id::hex).collect(),
        created_at: rfc3339(k.created_at),
        creation_time: k.created_at,
        updated_at: rfc3339(k.updated_at),
        last_login_time,
        etag: k.etag.to_string(),
    }
}
