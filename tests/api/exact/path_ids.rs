//! Entity ids in the path (issue 15 point 6): on every route, a malformed id is answered
//! exactly like a well-formed id that names nothing (the same status and body, whatever the
//! body of the request), and its 404 never echoes the id.

use crate::common::spawn_app;
use iamd::api::routes;
use serde_json::Value;

/// The segments that name an entity by id (`{reference}` names a branding slot).
fn id_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .filter(|p| *p != "account_id" && *p != "reference")
        .collect()
}

fn without_request_id(mut body: Value) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
    }
    body
}

#[test]
fn a_malformed_path_id_is_answered_exactly_like_an_unknown_one() {
    let app = spawn_app();
    let account = super::own_account(&app);
    let unknown = "0123456789abcdef0123456789abcdef";
    let bodies: [Option<&[u8]>; 4] = [None, Some(b"{"), Some(b"{}"), Some(br#"{"name": "x"}"#)];
    let mut checked = 0;
    for def in routes() {
        for path in def.full_paths() {
            if id_params(&path).is_empty() {
                continue;
            }
            let fill = |id: &str| {
                path.split('/')
                    .map(|seg| match seg {
                        "{account_id}" => account.clone(),
                        s if s.starts_with('{') => id.to_string(),
                        s => s.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            };
            for body in bodies {
                let send = |id: &str| {
                    let body = body.map(|b| ("application/json", b));
                    app.raw(def.method.as_str(), &fill(id), body, &[])
                };
                let want = send(unknown);
                for bad in [
                    "not-an-id",
                    &unknown[1..],
                    "ak_0123456789abcdef0123456789abcdef",
                ] {
                    let got = send(bad);
                    let what = format!("{} {path} with {bad}", def.method);
                    assert_eq!(got.status, want.status, "{what}: {}", got.text);
                    assert_eq!(
                        without_request_id(got.body.clone()),
                        without_request_id(want.body.clone()),
                        "{what}"
                    );
                    assert!(
                        !got.text.contains(bad),
                        "{what} echoes the id: {}",
                        got.text
                    );
                    if got.status == 404 {
                        let message = got.body["message"].as_str().unwrap_or_default();
                        assert!(message.ends_with(" not found."), "{what}: {message}");
                        assert_eq!(got.body["type"], "not_found", "{what}");
                    }
                }
                checked += 1;
            }
        }
    }
    // Every family of routes with an id is covered (users, keys, groups, invitations,
    // providers, certificates, developer certificates, on both URL families).
    assert!(checked >= 4 * 40, "only {checked} requests were compared");
}
