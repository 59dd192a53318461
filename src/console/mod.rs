//! The web console: a small client of plain ES modules (static/console/), embedded in the
//! binary at build time and served at `/console/` (`/` redirects there).
//!
//! Why a client of ES modules that calls the public API rather than server-rendered pages:
//! - The console is then one more client of `/auth` and `/v3`: every rule (rights, tenant
//!   isolation, validation, ErrorResponse `fields`) is the API's, and nothing the console
//!   shows can drift from what the API allows. Server-rendered forms would need a second
//!   set of handlers (and their CSRF defence) beside the API's.
//! - No build step: the files are served as written (browsers load ES modules natively), so
//!   building the server needs no Node toolchain, and the assets are `include_str!`ed here.
//! - The session token (`rt_...`) is never in localStorage: the page keeps it in module
//!   state and hands it once to `/console/session`, which keeps it in an HttpOnly,
//!   SameSite=Strict cookie that authorizes only requests carrying the `X-IAMD-CSRF` header
//!   (see `session`), so a reload keeps the person signed in and no script can read it.
//! - The pages run under a strict Content-Security-Policy: scripts and styles only from this
//!   origin, no inline script or style, no framing (`frame-ancestors 'none'`).
//!
//! Links in the emails point at `/console/#/...?token=`: the token sits in the fragment,
//! which browsers never send to the server, so it is in no request line or log.

mod branding;
pub mod session;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

/// Where the console is served (links in emails and the start-up message name it).
pub const PATH: &str = "/console/";

/// The console's page for an email link carrying `token` (in the fragment: see above).
pub fn link(public_url: &str, page: &str, token: &str) -> String {
    format!("{public_url}{PATH}#/{page}?token={token}")
}

/// Scripts, styles, images and API calls only from this origin; no inline code; never in a
/// frame. `img-src blob:` is for the branding editor's preview of a file chosen on the
/// person's own computer (an object URL the page makes); `data:` is left out.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// Every embedded file: (path below /console/, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    ("", HTML, include_str!("../../static/console/index.html")),
    (
        "console.css",
        CSS,
        include_str!("../../static/console/console.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/console/favicon.svg"),
    ),
    ("app.js", JS, include_str!("../../static/console/app.js")),
    ("api.js", JS, include_str!("../../static/console/api.js")),
    ("ui.js", JS, include_str!("../../static/console/ui.js")),
    (
        "pages/signin.js",
        JS,
        include_str!("../../static/console/pages/signin.js"),
    ),
    (
        "pages/links.js",
        JS,
        include_str!("../../static/console/pages/links.js"),
    ),
    (
        "pages/dashboard.js",
        JS,
        include_str!("../../static/console/pages/dashboard.js"),
    ),
    (
        "pages/users.js",
        JS,
        include_str!("../../static/console/pages/users.js"),
    ),
    (
        "pages/apikeys.js",
        JS,
        include_str!("../../static/console/pages/apikeys.js"),
    ),
    (
        "pages/profile.js",
        JS,
        include_str!("../../static/console/pages/profile.js"),
    ),
    (
        "pages/groups.js",
        JS,
        include_str!("../../static/console/pages/groups.js"),
    ),
    (
        "pages/devcerts.js",
        JS,
        include_str!("../../static/console/pages/devcerts.js"),
    ),
    (
        "pages/branding.js",
        JS,
        include_str!("../../static/console/pages/branding.js"),
    ),
    (
        "pages/branding_images.js",
        JS,
        include_str!("../../static/console/pages/branding_images.js"),
    ),
    (
        "pages/invitations.js",
        JS,
        include_str!("../../static/console/pages/invitations.js"),
    ),
    (
        "pages/memberships.js",
        JS,
        include_str!("../../static/console/pages/memberships.js"),
    ),
    (
        "pages/idp.js",
        JS,
        include_str!("../../static/console/pages/idp.js"),
    ),
    (
        "pages/tenants.js",
        JS,
        include_str!("../../static/console/pages/tenants.js"),
    ),
    (
        "pages/more.js",
        JS,
        include_str!("../../static/console/pages/more.js"),
    ),
    (
        "vendor/qrcodegen.js",
        JS,
        include_str!("../../static/console/vendor/qrcodegen.js"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Registers `/`, `/console` and `/console/...`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(to_console))
        .route("/console", web::get().to(to_console))
        .route("/console/branding/{theme}", web::get().to(branding::public))
        .route("/console/session", web::get().to(session::show))
        .route("/console/session", web::post().to(session::create))
        .route("/console/session", web::delete().to(session::delete))
        .route("/console/{file:.*}", web::get().to(asset));
}

async fn to_console() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, PATH))
        .finish()
}

async fn asset(req: HttpRequest) -> crate::error::ApiResult<HttpResponse> {
    let file = req.match_info().get("file").unwrap_or_default();
    match ASSETS.iter().find(|(path, _, _)| *path == file) {
        Some((_, content_type, body)) => Ok(secured(HttpResponse::Ok())
            .content_type(*content_type)
            // Revalidated on each load: a new binary must not run with an old script.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(*body)),
        None => Err(crate::error::ApiError::NotFound("Not found.".into())),
    }
}

/// The headers every console response carries.
fn secured(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_pages_import_is_embedded() {
        for (path, _, body) in ASSETS {
            for line in body
                .lines()
                .filter(|l| l.trim_start().starts_with("import "))
            {
                let Some(from) = line.split(['"', '\'']).nth(1) else {
                    continue;
                };
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let target = resolve(dir, from);
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == target),
                    "{path} imports {from} ({target}), which is not embedded"
                );
            }
        }
    }

    fn resolve(dir: &str, from: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for seg in from.split('/') {
            match seg {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }
}
