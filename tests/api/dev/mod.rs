//! Local development: seed files, reset, injected faults (README.md § Testing your client
//! against iamd). The seed is `examples/seed.yaml`, whose keys these tests use.

mod faults;
mod readme;
mod reset;
mod seed;
mod transfer;

use crate::common::{spawn_app_with, Client, TestApp};
use std::path::PathBuf;

/// The root admin key `examples/seed.yaml` is written for (its header names it).
pub const ROOT_KEY: &str = "ak_1MDFhMjJjOGRiZGQyMjlmNGY0YzZlOWViM2U0YWY1MzE01a22c8dbdd2f732a099f6a43ec70454gCUVeLOtSsK18aH0ToYccQ1IhE1Igec6";
pub const ROOT_ID: &str = "01a22c8dbdd229f4f4c6e9eb3e4af531";
/// The example's `ci` key (owner alice, Administrators).
pub const CI_KEY: &str = "ak_1MDFhMjJjOGRiZGQyMjlmNGY0YzZlOWViM2U0YWY1MzE01a22c8dbf3361d8b199d1f19562c28difIXP2OyUO7sVMYZ8Y3IaMxmjKfeuIZ3";
/// The example's `operator-tool` key (owner bob, operators only).
pub const OPERATOR_KEY: &str = "ak_1MDFhMjJjOGRiZGQyMjlmNGY0YzZlOWViM2U0YWY1MzE01a22c8dbf3bc7a19c07862705b43c4bQu6oCN3mrjhrltUqS2st3A1P6SpdrkMj";
/// The example tenant's `acme-admin` key, and the tenant id it names.
pub const ACME_KEY: &str = "ak_1MTcxYmE1YzQwZDJlNjk5ZmE1YmFhMjQzNjhiZGU4NjE01a22c8dc0433ffd6e7417594d7d0345NbgHtPvN6B28vWaojatn8BPmxc9agvrW";
pub const ACME_ID: &str = "171ba5c40d2e699fa5baa24368bde861";

pub fn example_seed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/seed.yaml")
}

/// A server in memory, started with the example's root key and seed; dev mode as asked.
pub fn seeded_app(dev: bool) -> TestApp {
    spawn_app_with(|c| {
        c.store.url = "memory:".into();
        c.bootstrap.admin_api_key = ROOT_KEY.into();
        c.dev.seed_file = example_seed().display().to_string();
        c.dev.enabled = dev;
    })
}

/// Sorted emails of a user list.
pub fn emails(client: &Client, path: &str) -> Vec<String> {
    let body = client.get(path).expect(200).clone();
    let mut out: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// The answer to `GET path`, without the last-login times that every request moves.
pub fn stable(client: &Client, path: &str) -> serde_json::Value {
    let mut body = client.get(path).expect(200).clone();
    strip(&mut body);
    body
}

fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("last_login_time");
            map.values_mut().for_each(strip);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// The example's light `brand_logo_square` (a file next to the seed file).
pub fn example_logo() -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/branding/logo-light.png"),
    )
    .unwrap()
}

/// The example's dark `brand_logo_square` (given as base64 in the seed file).
pub fn example_dark_logo() -> Vec<u8> {
    use base64::Engine as _;
    let seed: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(example_seed()).unwrap()).unwrap();
    let text = seed["branding_images"]["dark"]["brand_logo_square"]["base64"]
        .as_str()
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// The bytes `static_uri` of `GET base/branding-images/theme/reference` serves, if the
/// image is an uploaded one (none for the built-in default).
pub fn image_bytes(client: &Client, base: &str, theme: &str, reference: &str) -> Option<Vec<u8>> {
    let image = client
        .get(&format!("{base}/branding-images/{theme}/{reference}"))
        .expect(200)
        .clone();
    image.get("updated_at")?;
    let response = ureq::get(image["static_uri"].as_str().unwrap())
        .call()
        .expect("static file");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut out).unwrap();
    Some(out)
}
