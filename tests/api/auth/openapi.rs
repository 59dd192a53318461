//! `GET /auth/openapi.json` documents every `/auth` route the server serves, and every `/v3`
//! route of the route table that the Pelion spec lacks (the extension routes).

use crate::common::spawn_app;

#[test]
fn the_openapi_document_names_every_auth_route_and_method() {
    let app = spawn_app();
    let r = app.anonymous().get("/auth/openapi.json");
    let doc = r.expect(200).clone();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut served: Vec<(actix_web::http::Method, String)> = iamd::api::auth::paths()
        .into_iter()
        .map(|(m, p)| (m, p.to_string()))
        .collect();
    assert!(served.len() >= 10);
    let extensions = extension_routes();
    assert!(
        extensions.iter().any(|(_, p)| p == "/v3/audit-logs"),
        "{extensions:?}"
    );
    served.extend(extensions);
    for (method, path) in &served {
        let op = &doc["paths"][path.as_str()][method.as_str().to_lowercase()];
        assert!(
            op["summary"].is_string(),
            "{method} {path} is not documented"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        served.len(),
        "the document names a route the server lacks"
    );
    // Every route answers with an ErrorResponse for a method it does not serve.
    for (_, path) in served.iter().filter(|(_, p)| p.starts_with("/auth")) {
        let r = app.anonymous().delete(path);
        r.expect_error(405);
        assert!(r.header("allow").is_some());
    }
}

/// The `/v3` routes of the route table (both families) that are not operations of the spec.
fn extension_routes() -> Vec<(actix_web::http::Method, String)> {
    use crate::isolation::{shape, spec_operations};
    let spec: Vec<(String, String)> = spec_operations()
        .into_iter()
        .map(|(m, p)| (m, shape(&p)))
        .collect();
    let mut out = Vec::new();
    for def in iamd::api::routes() {
        for path in def.full_paths() {
            let known = (def.method.as_str().to_string(), shape(&path));
            if !spec.contains(&known) {
                out.push((def.method.clone(), path));
            }
        }
    }
    out
}
