//! `GET /auth/openapi.json` documents every `/auth` route the server serves.

use crate::common::spawn_app;

#[test]
fn the_openapi_document_names_every_auth_route_and_method() {
    let app = spawn_app();
    let r = app.anonymous().get("/auth/openapi.json");
    let doc = r.expect(200).clone();
    assert_eq!(doc["openapi"], "3.0.3");
    let served = iamd::api::auth::paths();
    assert!(served.len() >= 10);
    for (method, path) in &served {
        let op = &doc["paths"][path][method.as_str().to_lowercase()];
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
    for (_, path) in &served {
        let r = app.anonymous().delete(path);
        r.expect_error(405);
        assert!(r.header("allow").is_some());
    }
}
