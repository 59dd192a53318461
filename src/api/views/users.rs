//! `UserInfoResp` and the `login_profiles` of users and invitations.

use crate::error::ApiResult;
use crate::ids::{AccountId, Id, UserId};
use crate::service;
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::page::Page;
use crate::store::users::UserRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// `UserInfoResp`. It borrows the record it shows: a view is built to be serialized once,
/// and copying each field into a `String` of its own was a tenth of the work of
/// `GET /v3/users/me`.
#[derive(Serialize)]
pub struct UserView<'a> {
    pub object: &'static str,
    pub id: UserId,
    pub account_id: AccountId,
    pub email: &'a str,
    pub username: Option<&'a str>,
    pub full_name: Option<&'a str>,
    pub address: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub status: UserStatus,
    pub email_verified: bool,
    pub is_gtc_accepted: bool,
    pub is_marketing_accepted: bool,
    pub is_totp_enabled: bool,
    pub groups: &'a [Id],
    pub login_profiles: Vec<LoginProfileView>,
    pub login_history: Vec<LoginHistoryView>,
    /// Only with `include=active_sessions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_sessions: Option<Vec<ActiveSessionView>>,
    pub custom_fields: &'a BTreeMap<String, String>,
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub created_at: i64,
    pub creation_time: i64,
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub updated_at: i64,
    /// 0 until the user first logs in (the document's examples always carry it).
    pub last_login_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_changed_time: Option<i64>,
    #[serde(serialize_with = "as_text")]
    pub etag: u64,
    /// Only in the create response, and only when the server generated the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The spec's `LoginHistory`.
#[derive(Serialize)]
pub struct LoginHistoryView {
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub date: i64,
    pub ip_address: String,
    pub success: bool,
    pub user_agent: String,
}

/// The spec's `ActiveSession`. `reference_token` names the session (its id): it is not the
/// bearer token and authenticates nothing.
#[derive(Serialize)]
pub struct ActiveSessionView {
    pub object: &'static str,
    pub account_id: AccountId,
    pub ip_address: String,
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
    pub login_time: i64,
    pub user_agent: String,
    pub reference_token: String,
}

/// The live sessions of `user`, as `active_sessions` shows them.
pub fn active_sessions(state: &AppState, user: &UserRecord) -> ApiResult<Vec<ActiveSessionView>> {
    Ok(service::signin::sessions::live_sessions(state, user)?
        .into_iter()
        .map(|s| ActiveSessionView {
            object: "user-session",
            account_id: s.account_id,
            ip_address: s.ip_address,
            login_time: s.login_time,
            user_agent: s.user_agent,
            reference_token: s.id.hex(),
        })
        .collect())
}

/// A number rendered as a JSON string (`etag`), without a `String` in between.
fn as_text<S: serde::Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

#[derive(Serialize)]
pub struct LoginProfileView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

pub fn view<'a>(state: &AppState, u: &'a UserRecord) -> ApiResult<UserView<'a>> {
    let user = std::slice::from_ref(u);
    service::users::with_view_reads(state, user, || view_of(state, u, Seen::Read))
}

/// The view of a user its request created: nobody has signed in as it yet, so its login
/// history and last login are not read (on PostgreSQL, a round trip saved per create).
pub fn view_created<'a>(state: &AppState, u: &'a UserRecord) -> ApiResult<UserView<'a>> {
    view_of(state, u, Seen::Never)
}

/// Whether a view reads the user's sign-ins (login history, last login).
enum Seen {
    Read,
    Never,
}

/// The views of a page of users, with what they read fetched at once (see
/// `service::users::with_view_reads`).
pub fn views<'a>(state: &AppState, page: &'a Page<UserRecord>) -> ApiResult<Page<UserView<'a>>> {
    service::users::with_view_reads(state, &page.items, || {
        page.try_map_ref(|u| view_of(state, u, Seen::Read))
    })
}

fn view_of<'a>(state: &AppState, u: &'a UserRecord, seen: Seen) -> ApiResult<UserView<'a>> {
    let (login_history, last_login_time) = match seen {
        Seen::Never => (Vec::new(), 0),
        Seen::Read => (
            service::signin::sessions::login_history(state, u)?,
            service::users::last_login_time(state, &u.account_id, &u.id)?,
        ),
    };
    Ok(UserView {
        object: "user",
        id: u.id,
        account_id: u.account_id,
        email: &u.email,
        username: u.username.as_deref(),
        full_name: u.full_name.as_deref(),
        address: u.address.as_deref(),
        phone_number: u.phone_number.as_deref(),
        status: u.status,
        email_verified: u.email_verified,
        is_gtc_accepted: u.is_gtc_accepted,
        is_marketing_accepted: u.is_marketing_accepted,
        is_totp_enabled: u.is_totp_enabled,
        groups: &u.groups,
        login_profiles: login_profiles_view(state, &u.account_id, &u.login_profiles)?,
        login_history: login_history
            .into_iter()
            .map(|a| LoginHistoryView {
                date: a.date,
                ip_address: a.ip_address,
                success: a.success,
                user_agent: a.user_agent,
            })
            .collect(),
        active_sessions: None,
        custom_fields: &u.custom_fields,
        created_at: u.created_at,
        creation_time: u.created_at,
        updated_at: u.updated_at,
        last_login_time,
        password_changed_time: u.password_changed_time,
        etag: u.etag,
        password: None,
    })
}

/// The `login_profiles` of a user view: id, name and type of each referenced provider.
/// An id whose provider is gone (see `service::identity_providers::delete`) is shown
/// without name and type.
pub fn login_profiles_view(
    state: &AppState,
    account: &Id,
    ids: &[Id],
) -> ApiResult<Vec<LoginProfileView>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let found = service::identity_providers::get(state, account, id)?;
        out.push(LoginProfileView {
            id: id.hex(),
            name: found.as_ref().map(|r| r.name.clone()),
            kind: found.map(|r| r.kind),
        });
    }
    Ok(out)
}
