//! Users: `/v3/users/...` and, through `AccountScope`, `/v3/accounts/{account_id}/users/...`.

use super::body::{json_response, nullable, Json};
use super::path::PathId;
use super::scope::{AccountScope, AdminScope};
use super::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AccountId, Id, UserId};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::users::UserRecord;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::user_create::create;

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
    pub login_history: [(); 0],
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
        login_profiles: super::identity_providers::login_profiles_view(
            state,
            &u.account_id,
            &u.login_profiles,
        )?,
        login_history: [],
        custom_fields: &u.custom_fields,
        created_at: u.created_at,
        creation_time: u.created_at,
        updated_at: u.updated_at,
        last_login_time: state
            .store
            .last_login
            .get(&u.account_id, &u.id)?
            .unwrap_or(0),
        password_changed_time: u.password_changed_time,
        etag: u.etag,
        password: None,
    })
}

/// `UserUpdateReq`, also accepting the whole `UserInfoResp` that clients echo back.
#[derive(Deserialize, Default, Clone)]
pub struct UserUpdate {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone_number: Option<Option<String>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub is_gtc_accepted: Option<bool>,
    #[serde(default)]
    pub is_marketing_accepted: Option<bool>,
    #[serde(default)]
    pub is_totp_enabled: Option<bool>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub login_profiles: Option<Vec<LoginProfileRef>>,
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone)]
pub struct LoginProfileRef {
    pub id: String,
}

impl UserUpdate {
    /// Checks every field at once; returns the status the update sets, if any.
    pub fn validate(&self) -> ApiResult<Option<UserStatus>> {
        let mut c = Checks::new();
        c.email("email", self.email.as_deref());
        c.username("username", self.username.as_deref());
        c.text(
            "full_name",
            self.full_name.clone().flatten().as_deref(),
            100,
        );
        c.text("address", self.address.clone().flatten().as_deref(), 100);
        c.text(
            "phone_number",
            self.phone_number.clone().flatten().as_deref(),
            100,
        );
        c.custom_fields("custom_fields", self.custom_fields.as_ref());
        let status = c.choice("status", self.status.as_deref());
        c.finish()?;
        Ok(status)
    }

    /// Refuses changes to fields only admins may change (`status`, `groups`,
    /// `login_profiles`); echoing their current values is fine.
    pub fn check_rights(
        &self,
        status: Option<UserStatus>,
        current: &UserRecord,
        is_admin: bool,
    ) -> ApiResult<()> {
        if is_admin {
            return Ok(());
        }
        if status.is_some_and(|s| s != current.status) {
            return Err(ApiError::Forbidden(
                "Only administrators may change a user's status.".into(),
            ));
        }
        if let Some(groups) = &self.groups {
            let wanted = super::validate::ids("groups", groups)?;
            if !same_set(&wanted, &current.groups) {
                return Err(ApiError::Forbidden(
                    "Only administrators may change a user's groups.".into(),
                ));
            }
        }
        if let Some(profiles) = &self.login_profiles {
            let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
            let wanted = super::validate::ids("login_profiles", &ids)?;
            if !same_set(&wanted, &current.login_profiles) {
                return Err(ApiError::Forbidden(
                    "Only administrators may change login profiles.".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes the update (with `status`, what `validate` returned) into `u`.
    pub fn apply(&self, status: Option<UserStatus>, u: &mut UserRecord) {
        if let Some(v) = &self.email {
            if v.to_lowercase() != u.email.to_lowercase() {
                u.email_verified = false;
            }
            u.email = v.clone();
        }
        if let Some(v) = &self.username {
            u.username = Some(v.clone());
        }
        for (field, value) in [
            (&mut u.full_name, &self.full_name),
            (&mut u.address, &self.address),
            (&mut u.phone_number, &self.phone_number),
        ] {
            if let Some(v) = value {
                *field = v.clone();
            }
        }
        if let Some(v) = status {
            u.status = v;
        }
        if let Some(v) = self.is_gtc_accepted {
            u.is_gtc_accepted = v;
        }
        if let Some(v) = self.is_marketing_accepted {
            u.is_marketing_accepted = v;
        }
        if let Some(v) = self.is_totp_enabled {
            u.is_totp_enabled = v;
        }
        if let Some(v) = &self.custom_fields {
            u.custom_fields = v.clone();
        }
        if let Some(profiles) = &self.login_profiles {
            u.login_profiles = profiles.iter().filter_map(|p| Id::parse(&p.id)).collect();
        }
    }
}

pub fn same_set(a: &[Id], b: &[Id]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// The user the caller acts for, or 404 when its key has no owner: the record this
/// request's authentication read (a key whose owner is gone never gets this far).
fn me(scope: &AccountScope) -> ApiResult<&UserRecord> {
    scope
        .caller
        .owner
        .as_deref()
        .ok_or_else(|| ApiError::not_found("User"))
}

/// GET /v3/users/me
pub async fn get_me(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    let user = me(&scope)?;
    Ok(json_response(HttpResponse::Ok(), &view(&state, user)?))
}

/// PUT /v3/users/me
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let user = me(&scope)?;
    update_user(&state, &scope, user, body.0).await
}

/// Applies an update to `user` after checking fields and rights; shared by the `me` and
/// by-id routes.
pub async fn update_user(
    state: &AppState,
    scope: &AccountScope,
    user: &UserRecord,
    update: UserUpdate,
) -> ApiResult<HttpResponse> {
    let status = update.validate()?;
    update.check_rights(status, user, scope.is_admin())?;
    // The document: `status` "Can be changed by the Aggregator Admin only"; an admin of an
    // account that is not an aggregator (a tenant's own admin) may only echo it.
    if status.is_some_and(|s| s != user.status) {
        super::scope::require_tenant_manager(&scope.caller).map_err(|_| {
            ApiError::Forbidden(
                "Only an administrator of an aggregator account may change a user's status.".into(),
            )
        })?;
    }
    // Setting oneself INACTIVE would lock the caller out of every key it owns at once (an
    // aggregator's only admin could not undo it): refused like leaving `Administrators`.
    let deactivates = status == Some(UserStatus::Inactive) && user.status != UserStatus::Inactive;
    if deactivates
        && scope.caller.account_id() == scope.id()
        && scope.caller.user_id() == Some(user.id)
    {
        return Err(ApiError::field("status", "You cannot deactivate yourself."));
    }
    let account = scope.id();
    // Everything that can be checked is checked before the first write, so that a request
    // that fails changes nothing.
    let group_change = match &update.groups {
        Some(groups) => {
            let mut wanted = super::validate::ids("groups", groups)?;
            wanted.dedup();
            super::user_groups::check_groups(state, &account, &wanted)?;
            let add: Vec<Id> = wanted
                .iter()
                .filter(|g| !user.groups.contains(g))
                .copied()
                .collect();
            let remove: Vec<Id> = user
                .groups
                .iter()
                .filter(|g| !wanted.contains(g))
                .copied()
                .collect();
            super::user_groups::check_not_last_admin(state, scope, &remove)?;
            if remove.contains(&scope.admin_group()) {
                super::group_members::refuse_self_removal(scope, &[user.id], &[], "groups")?;
            }
            Some((add, remove))
        }
        None => None,
    };
    if let Some(profiles) = &update.login_profiles {
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        // The document: "The list cannot be empty." (`null` leaves the list as it is.)
        if ids.is_empty() {
            return Err(ApiError::field(
                "login_profiles",
                "The list cannot be empty.",
            ));
        }
        check_login_profiles(state, &account, &ids)?;
    }
    let mut updated = state
        .store
        .users
        .update(&account, &user.id, &|u| {
            update.apply(status, u);
            Ok(())
        })?
        .durable()
        .await?;
    if let Some((add, remove)) = group_change.filter(|(a, r)| !a.is_empty() || !r.is_empty()) {
        updated = state
            .store
            .users
            .change_groups(
                &account,
                &user.id,
                &add,
                &remove,
                Some(scope.admin_group().id()),
            )?
            .durable()
            .await?;
    }
    Ok(json_response(HttpResponse::Ok(), &view(state, &updated)?))
}

/// `login_profiles` may only name identity providers of the account (400 otherwise).
pub fn check_login_profiles(state: &AppState, account: &Id, ids: &[String]) -> ApiResult<()> {
    let ids = super::validate::ids("login_profiles", ids)?;
    super::identity_providers::check_login_profiles_exist(state, account, &ids)
}

/// The filters of `GET /v3/users` (`x-filter`).
const USER_FILTERS: &[super::list::FilterSpec] = &[
    super::list::FilterSpec {
        field: "email",
        ops: super::list::EQ,
    },
    super::list::FilterSpec {
        field: "status",
        ops: super::list::EQ_IN_NIN,
    },
    super::list::FilterSpec {
        field: "login_profiles",
        ops: super::list::EQ,
    },
];

/// GET /v3/users
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: actix_web::HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = super::list::ListQuery::parse(&req, 50, USER_FILTERS)?;
    let page = state.store.users.list(&scope.id(), &q.page, &q.filters)?;
    Ok(q.respond(page.try_map_ref(|u| view(&state, u))?))
}

/// GET /v3/users/{user_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    Ok(json_response(HttpResponse::Ok(), &view(&state, &user)?))
}

/// PUT /v3/users/{user_id}
///
/// Admins update anyone; any caller may update its own user exactly as through
/// `/v3/users/me`. Another user's email is never changed here (the spec: "Not allowed to
/// update other user's email address"); echoing it unchanged is fine.
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<UserId>,
    body: Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    let is_self = !scope.tenant && scope.caller.user_id() == Some(user.id);
    if !is_self {
        scope.require_admin()?;
        if body.0.email.as_ref().is_some_and(|e| *e != user.email) {
            return Err(ApiError::Forbidden(
                "Only the user itself may change its email address.".into(),
            ));
        }
    }
    update_user(&state, &scope, &user, body.0).await
}

/// DELETE /v3/users/{user_id}
///
/// Also removes the user from its groups, deletes the API keys it owns and its invitations.
pub async fn delete(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    if !scope.tenant && scope.caller.user_id() == Some(user.id) {
        return Err(ApiError::BadRequest("A user cannot delete itself.".into()));
    }
    let account = scope.id();
    state
        .store
        .users
        .delete(&account, &user.id, Some(scope.admin_group().id()))?
        .durable()
        .await?;
    state
        .store
        .invitations
        .delete_for_user(&account, &user.id)?
        .durable()
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v3/accounts/{account_id}/users/{user_id}/validate-email
///
/// Asks the user, by email, to confirm its address. The request has no body.
pub async fn validate_email(
    state: web::Data<AppState>,
    scope: AdminScope,
    id: PathId<UserId>,
) -> ApiResult<HttpResponse> {
    let user = id.find(&state, &scope)?;
    let name = scope.name_for_email();
    let body = format!(
        "Hello,\n\nAn administrator of the account \"{name}\" asked you to confirm that \
         {} is your email address.\n\nPlease sign in to {} to confirm it.\n",
        user.email,
        state.config.public_url()
    );
    crate::email::send(
        &state,
        &scope.id(),
        crate::email::Email {
            to: user.email.clone(),
            subject: "Please confirm your email address".into(),
            body,
            secrets: Vec::new(),
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
