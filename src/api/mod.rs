//! HTTP: one module per resource, the route table, and the conventions they share.

pub mod accounts;
pub mod apikey_groups;
pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod body;
pub mod branding_colors;
pub mod branding_images;
pub mod developer_certificates;
pub mod group_members;
pub mod headers;
pub mod identity_providers;
pub mod invitations;
pub mod list;
pub mod notifications;
pub mod path;
pub mod policy_groups;
pub mod request_id;
pub mod scope;
pub mod server_credentials;
pub mod tenant_accounts;
pub mod trusted_certificates;
pub mod user_groups;
pub mod users;
pub mod views;

use crate::error::ApiError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpResponse, ResponseError, Route};

/// Which URL families serve a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/v3<path>` only (the caller's own account, or not account-scoped).
    Own,
    /// `/v3<path>` and `/v3/accounts/{account_id}<path>`, one handler behind `AccountScope`.
    Scoped,
    /// `/v3/accounts/{account_id}<path>` only (tenant-only operations).
    Tenant,
}

/// One row of the route table.
pub struct RouteDef {
    pub method: Method,
    pub family: Family,
    /// Path below `/v3` (or below `/v3/accounts/{account_id}` for tenant routes).
    pub path: &'static str,
    make: fn() -> Route,
}

impl RouteDef {
    /// The full paths this row serves.
    pub fn full_paths(&self) -> Vec<String> {
        let own = format!("/v3{}", self.path);
        let tenant = format!("/v3/accounts/{{account_id}}{}", self.path);
        match self.family {
            Family::Own => vec![own],
            Family::Scoped => vec![own, tenant],
            Family::Tenant => vec![tenant],
        }
    }
}

macro_rules! route {
    ($family:ident $method:ident $path:literal => $handler:path) => {
        RouteDef {
            method: Method::$method,
            family: Family::$family,
            path: $path,
            make: || web::method(Method::$method).to($handler),
        }
    };
}

/// Every API route. Fixed paths (`/me`) come before the parameterised ones they would
/// otherwise match. Tests derive their route lists from this table.
pub fn routes() -> Vec<RouteDef> {
    vec![
        // Account - profile
        route!(Own GET "/accounts/me" => accounts::get_me),
        route!(Own PUT "/accounts/me" => accounts::update_me),
        // Account - users
        route!(Own GET "/users/me" => users::get_me),
        route!(Own PUT "/users/me" => users::update_me),
        route!(Scoped GET "/users" => users::list),
        route!(Scoped POST "/users" => users::create),
        route!(Scoped GET "/users/{user_id}" => users::get),
        // -- users (more) --
        route!(Scoped PUT "/users/{user_id}" => users::update),
        route!(Scoped DELETE "/users/{user_id}" => users::delete),
        route!(Scoped GET "/users/{user_id}/groups" => user_groups::list),
        route!(Scoped POST "/users/{user_id}/groups" => user_groups::add),
        route!(Scoped DELETE "/users/{user_id}/groups" => user_groups::remove),
        route!(Tenant POST "/users/{user_id}/validate-email" => users::validate_email),
        // Account - API keys
        route!(Own GET "/api-keys/me" => apikeys::get_me),
        route!(Own PUT "/api-keys/me" => apikeys::update_me),
        route!(Scoped POST "/api-keys" => apikeys::create),
        // -- api keys (more) --
        route!(Own GET "/api-keys/me/groups" => apikey_groups::get_me),
        route!(Own POST "/api-keys/me/groups" => apikey_groups::add_me),
        route!(Own DELETE "/api-keys/me/groups" => apikey_groups::remove_me),
        route!(Scoped GET "/api-keys" => apikeys::list),
        route!(Scoped GET "/api-keys/{apikey_id}" => apikeys::get),
        route!(Scoped PUT "/api-keys/{apikey_id}" => apikeys::update),
        route!(Scoped DELETE "/api-keys/{apikey_id}" => apikeys::delete),
        route!(Scoped GET "/api-keys/{apikey_id}/groups" => apikey_groups::get),
        route!(Scoped POST "/api-keys/{apikey_id}/groups" => apikey_groups::add),
        route!(Scoped DELETE "/api-keys/{apikey_id}/groups" => apikey_groups::remove),
        route!(Scoped POST "/api-keys/{apikey_id}/reset-secret" => apikeys::reset_secret),
        // -- policy groups --
        route!(Scoped GET "/policy-groups" => policy_groups::list),
        route!(Scoped POST "/policy-groups" => policy_groups::create),
        route!(Scoped GET "/policy-groups/{group_id}" => policy_groups::get),
        route!(Scoped PUT "/policy-groups/{group_id}" => policy_groups::rename),
        route!(Scoped POST "/policy-groups/{group_id}" => group_members::add_subjects),
        route!(Scoped DELETE "/policy-groups/{group_id}" => policy_groups::delete),
        route!(Scoped GET "/policy-groups/{group_id}/users" => group_members::users),
        route!(Scoped DELETE "/policy-groups/{group_id}/users" => group_members::remove_users),
        route!(Scoped GET "/policy-groups/{group_id}/api-keys" => group_members::apikeys),
        route!(Scoped DELETE "/policy-groups/{group_id}/api-keys" => group_members::remove_apikeys),
        // -- user invitations --
        route!(Scoped GET "/user-invitations" => invitations::list),
        route!(Scoped GET "/audit-logs" => audit::list),
        route!(Scoped POST "/user-invitations" => invitations::create),
        route!(Scoped GET "/user-invitations/{invitation_id}" => invitations::get),
        route!(Scoped DELETE "/user-invitations/{invitation_id}" => invitations::delete),
        // -- identity providers --
        route!(Scoped GET "/identity-providers" => identity_providers::list),
        route!(Scoped POST "/identity-providers" => identity_providers::create),
        route!(Scoped GET "/identity-providers/{identity_provider_id}" => identity_providers::get),
        route!(Scoped PUT "/identity-providers/{identity_provider_id}" => identity_providers::update),
        route!(Scoped DELETE "/identity-providers/{identity_provider_id}" => identity_providers::delete),
        route!(Scoped POST "/identity-providers/{identity_provider_id}/generate-sp-certificate" => identity_providers::generate_sp_certificate),
        route!(Scoped POST "/identity-providers/{identity_provider_id}/delete-sp-certificate" => identity_providers::delete_sp_certificate),
        // -- notifications --
        route!(Own GET "/accounts/me/notifications" => notifications::list),
        route!(Tenant GET "/notifications" => notifications::list),
        // -- tenant accounts --
        // `/v3/accounts/me` (above) wins over `/v3/accounts/{account_id}`: registered first.
        route!(Own GET "/accounts" => tenant_accounts::list),
        route!(Own POST "/accounts" => tenant_accounts::create),
        route!(Tenant GET "" => tenant_accounts::get),
        route!(Tenant PUT "" => tenant_accounts::update),
        // -- trusted certificates --
        route!(Scoped GET "/trusted-certificates" => trusted_certificates::list),
        route!(Scoped POST "/trusted-certificates" => trusted_certificates::create),
        route!(Scoped GET "/trusted-certificates/{cert_id}" => trusted_certificates::get),
        route!(Scoped PUT "/trusted-certificates/{cert_id}" => trusted_certificates::update),
        route!(Scoped DELETE "/trusted-certificates/{cert_id}" => trusted_certificates::delete),
        // -- developer certificates --
        route!(Own POST "/developer-certificates" => developer_certificates::create),
        route!(Own GET "/developer-certificates/{developerCertificateId}" => developer_certificates::get),
        // -- server credentials --
        route!(Own GET "/server-credentials" => server_credentials::all),
        route!(Own GET "/server-credentials/bootstrap" => server_credentials::bootstrap),
        route!(Own GET "/server-credentials/lwm2m" => server_credentials::lwm2m),
        // -- branding colors --
        route!(Scoped GET "/branding-colors/light" => branding_colors::list),
        route!(Scoped PUT "/branding-colors/light" => branding_colors::set_many),
        route!(Scoped GET "/branding-colors/light/{reference}" => branding_colors::get),
        route!(Scoped PUT "/branding-colors/light/{reference}" => branding_colors::set),
        route!(Scoped DELETE "/branding-colors/light/{reference}" => branding_colors::reset),
        route!(Scoped GET "/branding-colors/dark" => branding_colors::list),
        route!(Scoped PUT "/branding-colors/dark" => branding_colors::set_many),
        route!(Scoped GET "/branding-colors/dark/{reference}" => branding_colors::get),
        route!(Scoped PUT "/branding-colors/dark/{reference}" => branding_colors::set),
        route!(Scoped DELETE "/branding-colors/dark/{reference}" => branding_colors::reset),
        // -- branding images --
        route!(Scoped GET "/branding-images/light" => branding_images::list),
        route!(Scoped GET "/branding-images/light/{reference}" => branding_images::get),
        route!(Scoped POST "/branding-images/light/{reference}/clear" => branding_images::clear),
        route!(Scoped POST "/branding-images/light/{reference}/upload" => branding_images::upload),
        route!(Scoped POST "/branding-images/light/{reference}/upload-multipart" => branding_images::upload_multipart),
        route!(Scoped GET "/branding-images/dark" => branding_images::list),
        route!(Scoped GET "/branding-images/dark/{reference}" => branding_images::get),
        route!(Scoped POST "/branding-images/dark/{reference}/clear" => branding_images::clear),
        route!(Scoped POST "/branding-images/dark/{reference}/upload" => branding_images::upload),
        route!(Scoped POST "/branding-images/dark/{reference}/upload-multipart" => branding_images::upload_multipart),
    ]
}

/// Registers the route table, grouping methods by path so an unsupported method on a known
/// path is 405 and an unknown path is 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    type Makers = Vec<(Method, fn() -> Route)>;
    let mut by_path: Vec<(String, Makers)> = Vec::new();
    for def in routes() {
        for path in def.full_paths() {
            let maker = (def.method.clone(), def.make);
            match by_path.iter_mut().find(|(p, _)| *p == path) {
                Some((_, makers)) => makers.push(maker),
                None => by_path.push((path, vec![maker])),
            }
        }
    }
    // actix tries resources in order, and a path with `{...}` segments is a regex match:
    // fixed paths go first (a string comparison each; most requests end there), which also
    // keeps `/me` ahead of the `{id}` it would otherwise match.
    by_path.sort_by_key(|(path, _)| path.contains('{'));
    for (path, makers) in by_path {
        let mut resource = web::resource(path.as_str());
        let methods: Vec<&Method> = makers.iter().map(|(m, _)| m).collect();
        let allow = allow_header(&methods);
        for (_, make) in makers {
            resource = resource.route(make());
        }
        cfg.service(resource.default_service(method_not_allowed(allow)));
    }
    auth::configure(cfg);
    let get_only = || method_not_allowed(allow_header(&[&Method::GET]));
    cfg.service(
        web::resource("/health")
            .route(web::get().to(health))
            .default_service(get_only()),
    );
    cfg.service(
        web::resource("/static/{name}")
            .route(web::get().to(branding_images::serve_static))
            .default_service(get_only()),
    );
}

/// The `Allow` value for a path served with `methods`.
pub(crate) fn allow_header(methods: &[&Method]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The 405 of a known path: an ErrorResponse whose `Allow` header lists the methods the path
/// serves (RFC 9110 requires it).
pub(crate) fn method_not_allowed(allow: String) -> Route {
    web::route().to(move || {
        let allow = allow.clone();
        async move {
            let mut response = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    })
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("No such route.".into()))
}

/// GET /health: 503 while the store cannot take writes (a full or failing disk).
async fn health(state: web::Data<crate::state::AppState>) -> Result<HttpResponse, ApiError> {
    let bootstrapped = crate::service::health::check(&state)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "store": "ok",
        "engine": crate::service::health::engine(&state),
        "version": env!("CARGO_PKG_VERSION"),
        "bootstrapped": bootstrapped,
    })))
}
