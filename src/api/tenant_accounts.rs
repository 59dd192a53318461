//! Tenant accounts: an aggregator's sub-tenants (`/v3/accounts`, `/v3/accounts/{account_id}`).
//!
//! Who may is decided by `scope`: only admins of an aggregator account, and only for the
//! accounts they are parent of (or their own); other account ids are 404 like unknown ones.
//!
//! Creating a tenant makes it complete at once (`provision::plan`): its `Administrators` and
//! `Developers` groups, its admin user and an admin API key, shown in full in the 201 only.
//!
//! "An existing user of the same email is linked, not duplicated" (spec, `action`): users
//! belong to one account here, so linking means the new tenant's admin is a copy of the
//! caller's own account's user with `admin_email` (the same person): it takes that user's
//! username, full name, contact details, status and password hash, so the person signs in to
//! the new tenant with the credentials they already have. The request's `admin_name`,
//! `admin_full_name` and `admin_password` then do not apply (no password is generated or
//! returned), exactly as "its status is not modified" says for an existing user.

use super::accounts::{self, include_param, AccountUpdate};
use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ, EQ_IN_NIN, LIKE};
use super::scope::{require_tenant_manager, AccountScope};
use super::validate::{is_alias, Checks};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::provision::{plan, AdminPlan};
use crate::state::AppState;
use crate::status::UserStatus;
use crate::store::accounts::AccountRecord;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::future::{ready, Ready};

/// A caller allowed to manage sub-tenants (`require_tenant_manager`), checked before the
/// body is read so that anyone else gets 403 whatever they send.
pub struct TenantManager(pub Caller);

impl FromRequest for TenantManager {
    type Error = ApiError;
    type Future = Ready<Result<TenantManager, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => crate::auth::authenticate(req, state).and_then(|caller| {
                require_tenant_manager(&caller)?;
                Ok(TenantManager(caller))
            }),
            None => Err(ApiError::Internal("application state is missing".into())),
        })
    }
}

/// `AccountCreationReq`. Unknown fields are ignored; `null` means "not given".
#[derive(Deserialize, Default)]
pub struct AccountCreate {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub end_market: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub contract_number: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub admin_email: Option<String>,
    #[serde(default)]
    pub admin_name: Option<String>,
    #[serde(default)]
    pub admin_full_name: Option<String>,
    #[serde(default)]
    pub admin_password: Option<String>,
}

/// The password policy a new tenant starts with (see `provision::plan`).
const MIN_PASSWORD: usize = 8;

impl AccountCreate {
    fn validate(&self, action: &str) -> ApiResult<()> {
        let mut c = Checks::new();
        c.one_of("action", Some(action), &["create", "enroll"]);
        c.required_text("end_market", self.end_market.as_deref(), 100, "Required.");
        for (name, value) in [
            ("display_name", &self.display_name),
            ("company", &self.company),
            ("contact", &self.contact),
            ("phone_number", &self.phone_number),
            ("address_line1", &self.address_line1),
            ("address_line2", &self.address_line2),
            ("city", &self.city),
            ("state", &self.state),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("contract_number", &self.contract_number),
            ("customer_number", &self.customer_number),
            ("admin_full_name", &self.admin_full_name),
        ] {
            c.text(name, value.as_deref(), 100);
        }
        c.email("email", self.email.as_deref());
        c.email("admin_email", self.admin_email.as_deref());
        if self.admin_email.is_none() && self.email.is_none() {
            c.fail(
                "admin_email",
                "Required: the email address of the account's admin user (or the account's email).",
            );
        }
        c.username("admin_name", self.admin_name.as_deref());
        if let Some(p) = &self.admin_password {
            c.check(
                p.chars().count() >= MIN_PASSWORD,
                "admin_password",
                format!("Must be at least {MIN_PASSWORD} characters."),
            );
            c.max_len("admin_password", Some(p), 512);
        }
        if let Some(aliases) = &self.aliases {
            c.check(aliases.len() <= 10, "aliases", "At most 10 aliases.");
            c.check(
                aliases.iter().all(|a| is_alias(a)),
                "aliases",
                "Each alias must be 8-100 of letters, digits and -._.",
            );
            let mut sorted = aliases.clone();
            sorted.sort();
            sorted.dedup();
            c.check(
                sorted.len() == aliases.len(),
                "aliases",
                "Aliases must not repeat.",
            );
        }
        c.finish()
    }
}

#[derive(Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    pub action: Option<String>,
}

/// POST /v3/accounts
pub async fn create(
    state: web::Data<AppState>,
    TenantManager(caller): TenantManager,
    params: web::Query<CreateParams>,
    body: Json<AccountCreate>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let action = params.action.as_deref().unwrap_or("create");
    req.validate(action)?;
    let admin_email = req
        .admin_email
        .clone()
        .or(req.email.clone())
        .unwrap_or_default();
    let existing = state
        .store
        .users
        .by_email(&caller.account.id, &admin_email)?;

    let account = AccountRecord {
        display_name: req.display_name,
        company: req.company,
        contact: req.contact,
        email: req.email,
        phone_number: req.phone_number,
        address_line1: req.address_line1,
        address_line2: req.address_line2,
        city: req.city,
        state: req.state,
        postal_code: req.postal_code,
        country: req.country,
        end_market: req.end_market.unwrap_or_default(),
        aliases: req.aliases.unwrap_or_default(),
        contract_number: req.contract_number,
        customer_number: req.customer_number,
        ..AccountRecord::new(Some(caller.account.id))
    };
    let status = match (action, &req.admin_password) {
        ("enroll", _) => UserStatus::Enrolling,
        (_, Some(_)) => UserStatus::Active,
        (_, None) => UserStatus::Reset,
    };
    // A linked existing user keeps its own password: the chosen one is not even hashed.
    let chosen_hash = match (req.admin_password, &existing) {
        (Some(p), None) => Some(crate::auth::password::hash_chosen(p).await?),
        _ => None,
    };
    let mut provisioned = plan(
        account,
        AdminPlan {
            email: admin_email,
            username: req.admin_name,
            full_name: req.admin_full_name,
            chosen_hash,
            status,
        },
    );
    if let Some(user) = existing {
        let admin = &mut provisioned.new.admin;
        admin.email = user.email;
        admin.username = user.username;
        admin.full_name = user.full_name;
        admin.address = user.address;
        admin.phone_number = user.phone_number;
        admin.status = user.status;
        admin.password_hash = user.password_hash;
        admin.password_changed_time = user.password_changed_time;
        admin.email_verified = user.email_verified;
        admin.is_gtc_accepted = user.is_gtc_accepted;
        admin.is_marketing_accepted = user.is_marketing_accepted;
        provisioned.generated_password = None;
    }
    let admin = provisioned.new.admin.clone();
    let created = state
        .store
        .accounts
        .provision(provisioned.new, false)?
        .durable()
        .await?;
    let mut v = accounts::view(&state, &created, &[])?;
    v.admin_id = Some(admin.id.hex());
    v.admin_key = Some(provisioned.admin_key);
    v.admin_name = admin.username;
    v.admin_email = Some(admin.email);
    v.admin_full_name = admin.full_name;
    v.admin_password = provisioned.generated_password;
    Ok(HttpResponse::Created()
        .insert_header(super::headers::no_store())
        .json(v))
}

/// The filters of `GET /v3/accounts` (`x-filter`).
const ACCOUNT_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "status",
        ops: EQ_IN_NIN,
    },
    FilterSpec {
        field: "tier",
        ops: EQ,
    },
    FilterSpec {
        field: "parent",
        ops: EQ,
    },
    FilterSpec {
        field: "end_market",
        ops: EQ,
    },
    FilterSpec {
        field: "country",
        ops: LIKE,
    },
];

/// GET /v3/accounts
///
/// The caller's sub-tenants (its own account is `/v3/accounts/me`).
pub async fn list(
    state: web::Data<AppState>,
    TenantManager(caller): TenantManager,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = ListQuery::parse(&req, 1000, ACCOUNT_FILTERS)?;
    let page = state
        .store
        .accounts
        .children(&caller.account.id, &q.page, &q.filters)?;
    let include: Vec<&str> = q.include.iter().map(String::as_str).collect();
    Ok(q.respond(page.try_map(|a| accounts::view(&state, &a, &include))?))
}

/// GET /v3/accounts/{account_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let include = include_param(&req);
    let include: Vec<&str> = include.iter().map(String::as_str).collect();
    Ok(HttpResponse::Ok().json(accounts::view(&state, &scope.account, &include)?))
}

/// PUT /v3/accounts/{account_id}
///
/// The parent may also set `contract_number`, `customer_number` and `sales_contact`
/// (`AccountUpdateRootReq`). On the caller's own id this is `PUT /v3/accounts/me`.
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<AccountUpdate>,
) -> ApiResult<HttpResponse> {
    if scope.id() == scope.caller.account_id() {
        return accounts::update_me(state, scope, body).await;
    }
    let update = body.0;
    update.validate(true)?;
    let updated = state
        .store
        .accounts
        .update(&scope.id(), &|a| {
            update.apply(a, true);
            Ok(())
        })?
        .durable()
        .await?;
    Ok(HttpResponse::Ok().json(accounts::view(&state, &updated, &[])?))
}
