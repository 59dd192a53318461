//! `/auth`: people sign in, beside the `/v3` API (see README § Signing in, and the OpenAPI
//! document served at `GET /auth/openapi.json`). Handlers parse and authorize; the rules
//! are in `crate::auth` (`login`, `session`, `totp`, `throttle`).

pub mod invitations;
mod login;
mod password;
pub mod recovery;
mod token;
pub mod totp;

use crate::auth::login::ClientInfo;
use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse, Route};

/// Makes a route's handler.
type Make = fn() -> Route;

/// Every `/auth` route: (method, path, handler).
fn routes() -> Vec<(Method, &'static str, Make)> {
    vec![
        (Method::POST, "/auth/login", || web::post().to(login::login)),
        (Method::GET, "/auth/openapi.json", || web::get().to(openapi)),
        (Method::GET, "/auth/invitations/{token}", || {
            web::get().to(invitations::show)
        }),
        (Method::POST, "/auth/invitations/{token}/accept", || {
            web::post().to(invitations::accept)
        }),
        (Method::POST, "/auth/logout", || {
            web::post().to(login::logout)
        }),
        (Method::POST, "/auth/change-password", || {
            web::post().to(password::change_password)
        }),
        (Method::POST, "/auth/token", || web::post().to(token::token)),
        (Method::POST, "/auth/forgot-password", || {
            web::post().to(recovery::forgot_password)
        }),
        (Method::POST, "/auth/reset-password", || {
            web::post().to(recovery::reset_password)
        }),
        (Method::POST, "/auth/verify-email", || {
            web::post().to(recovery::verify_email)
        }),
        (Method::POST, "/auth/totp", || web::post().to(totp::setup)),
        (Method::POST, "/auth/totp/confirm", || {
            web::post().to(totp::confirm)
        }),
        (Method::POST, "/auth/totp/scratch-codes", || {
            web::post().to(totp::scratch_codes)
        }),
    ]
}

/// The paths of `/auth` (for tests and the OpenAPI document).
pub fn paths() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// Registers the routes; an unsupported method on a known path is 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut by_path: Vec<(&str, Vec<(Method, Make)>)> = Vec::new();
    for (method, path, make) in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, makers)) => makers.push((method, make)),
            None => by_path.push((path, vec![(method, make)])),
        }
    }
    for (path, makers) in by_path {
        let methods: Vec<&Method> = makers.iter().map(|(m, _)| m).collect();
        let allow = super::allow_header(&methods);
        let mut resource = web::resource(path);
        for (_, make) in &makers {
            resource = resource.route(make());
        }
        cfg.service(resource.default_service(super::method_not_allowed(allow)));
    }
}

/// GET /auth/openapi.json: the OpenAPI document of these routes.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(include_str!("openapi.json"))
}

/// The client's address (the TCP peer: a forwarded-for header can be forged) and agent.
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        ip: req.peer_addr().map(|a| a.ip()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect(),
    }
}

/// A 200 whose body carries a secret: never kept by a cache.
pub fn secret_json(body: &impl serde::Serialize) -> HttpResponse {
    super::body::json_response(
        HttpResponse::Ok()
            .insert_header(super::headers::no_store())
            .take(),
        body,
    )
}
