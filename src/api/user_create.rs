//! `POST /v3/users` (and `/v3/accounts/{account_id}/users`): creating and inviting users.
//!
//! `action=create` with a password makes an ACTIVE user (the password checked against the
//! account's policy); without one the server generates a password, returns it once in the
//! response, emails it, and the user is RESET (must change it). `action=invite` makes an
//! INVITED user and sends an invitation (see `invitations`).

use super::body::Json;
use super::invitations::{issue, NewInvitation, DEFAULT_VALID_FOR_DAYS};
use super::scope::AdminScope;
use super::user_groups::check_groups;
use super::users::{check_login_profiles, view, LoginProfileRef};
use super::validate::{self, Checks};
use crate::auth::password;
use crate::error::ApiResult;
use crate::ids::{AccountId, Id};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::users::UserRecord;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// `UserInfoReq`.
#[derive(Deserialize, Default)]
pub struct UserCreate {
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub is_gtc_accepted: Option<bool>,
    #[serde(default)]
    pub is_marketing_accepted: Option<bool>,
    #[serde(default)]
    pub login_profiles: Option<Vec<LoginProfileRef>>,
}

#[derive(Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    pub action: Option<String>,
}

/// A new user record with `password_hash` (from `password::hash_chosen` for a chosen
/// password, `password::hash_generated` for a generated one or an invited user's
/// placeholder; see `auth::password` for their costs).
pub fn new_record(
    account: AccountId,
    email: String,
    status: UserStatus,
    password_hash: Vec<u8>,
    groups: Vec<Id>,
    login_profiles: Vec<Id>,
) -> UserRecord {
    let user = UserRecord::new(account, email, status);
    UserRecord {
        password_hash: Some(password_hash),
        login_profiles,
        groups,
        password_changed_time: Some(user.created_at),
        ..user
    }
}

/// POST /v3/users
pub async fn create(
    state: web::Data<AppState>,
    scope: AdminScope,
    params: web::Query<CreateParams>,
    body: Json<UserCreate>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let action = params.action.as_deref().unwrap_or("create");
    let mut c = Checks::new();
    c.one_of("action", Some(action), &["create", "invite"]);
    c.email("email", Some(&req.email));
    c.username("username", req.username.as_deref());
    c.text("full_name", req.full_name.as_deref(), 100);
    c.text("address", req.address.as_deref(), 100);
    c.text("phone_number", req.phone_number.as_deref(), 100);
    if let Some(p) = &req.password {
        let min = scope.account.password_minimum_length.max(8) as usize;
        c.check(
            p.chars().count() >= min,
            "password",
            format!("Must be at least {min} characters."),
        );
        c.max_len("password", Some(p), 512);
    }
    c.finish()?;
    let account = scope.id();
    let groups = validate::ids("groups", req.groups.as_deref().unwrap_or_default())?;
    check_groups(&state, &account, &groups)?;
    let profile_ids: Vec<String> = req
        .login_profiles
        .iter()
        .flatten()
        .map(|p| p.id.clone())
        .collect();
    check_login_profiles(&state, &account, &profile_ids)?;
    let login_profiles = validate::ids("login_profiles", &profile_ids)?;
    let (status, password_hash, generated) = match (action, req.password) {
        ("invite", _) => (
            UserStatus::Invited,
            password::hash_generated(&password::generate()),
            None,
        ),
        // ~0.2 s of CPU: on the blocking pool, after every cheap check has passed.
        (_, Some(p)) => (UserStatus::Active, password::hash_chosen(p).await?, None),
        (_, None) => {
            let p = password::generate();
            (UserStatus::Reset, password::hash_generated(&p), Some(p))
        }
    };
    let user = UserRecord {
        username: req.username,
        full_name: req.full_name,
        address: req.address,
        phone_number: req.phone_number,
        is_gtc_accepted: req.is_gtc_accepted.unwrap_or(false),
        is_marketing_accepted: req.is_marketing_accepted.unwrap_or(false),
        ..new_record(
            account,
            req.email,
            status,
            password_hash,
            groups.clone(),
            login_profiles.clone(),
        )
    };
    let outgoing = generated
        .as_deref()
        .map(|p| password_email(&state, &scope, &user.email, p));
    // The user and its password email's log entry commit together.
    let written = state
        .store
        .users
        .create(user, outgoing.as_ref().map(|o| &o.entry))?;
    let created = match outgoing {
        Some(o) => crate::email::deliver(&state, written, o).await?,
        None => written.durable().await?,
    };
    if status == UserStatus::Invited {
        // The user exists because of this request, not of the invitation: revoking the
        // invitation later leaves the user alone.
        let new = NewInvitation {
            user: created.clone(),
            created_user: false,
            groups,
            login_profiles,
            valid_for_days: DEFAULT_VALID_FOR_DAYS,
        };
        issue(&state, &scope.account, new).await?;
    }
    let mut v = view(&state, &created)?;
    let mut response = HttpResponse::Created();
    if generated.is_some() {
        response.insert_header(super::headers::no_store());
    }
    v.password = generated;
    Ok(response.json(v))
}

fn password_email(
    state: &AppState,
    scope: &AdminScope,
    to: &str,
    password: &str,
) -> crate::email::Outgoing {
    let name = scope.name_for_email();
    let body = format!(
        "Hello,\n\nA user was created for you in the account \"{name}\".\n\n\
         Your temporary password: {password}\n\n\
         You must choose a new password when you first sign in.\n"
    );
    let email = crate::email::Email {
        to: to.to_string(),
        subject: format!("Your new user in {name}"),
        body,
        secrets: vec![password.to_string()],
    };
    crate::email::compose(state, &scope.id(), &email)
}
