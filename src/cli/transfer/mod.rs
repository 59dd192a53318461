//! `iamd export`, `iamd import` and `iamd mirror`: an account read through the public API of
//! any server that speaks it (iamd, or the cloud service), as a JSON document, and built again
//! through the public API of another server. Ids are the target's own; secrets never travel:
//! users get new passwords, printed once; API keys are not copied.
//!
//! The document (`"format": "iamd-export"`, `"version": 1`): `account` (the account as
//! `GET /v3/accounts/me` shows it), `users`, `groups` (each with `user_ids`, the exported ids
//! of its users), `trusted_certificates`, `identity_providers` (as their `GET`s show them),
//! `branding_colors` (`light`/`dark`: each customised `{reference, color}` in force, own or
//! inherited; the build sets only those the target does not show already),
//! `branding_images` (see `images`), and `tenants` (the same, one per sub-tenant; `--tenants`).

mod api;
mod images;

use api::Api;

use super::{fail, FAILED};
use clap::Args;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Entity lists an account's document holds, and their paths below the account's base.
const LISTS: [(&str, &str); 4] = [
    ("users", "/users"),
    ("groups", "/policy-groups"),
    ("trusted_certificates", "/trusted-certificates"),
    ("identity_providers", "/identity-providers"),
];
/// Fields a server makes, never sent back.
const MADE: [&str; 9] = [
    "id",
    "account_id",
    "object",
    "etag",
    "created_at",
    "updated_at",
    "creation_time",
    "last_login_time",
    "password_changed_time",
];

#[derive(Args)]
pub struct ExportArgs {
    /// The account to export: the key's own (the default), or one of its tenants
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// The server to read (default http://127.0.0.1:8080)
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An administrator's API key of that account (or of its parent)
    #[arg(long, value_name = "KEY", env = "IAMD_API_KEY", hide_env_values = true)]
    api_key: String,
    /// Also export the account's tenants
    #[arg(long)]
    tenants: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The document `iamd export` wrote
    file: PathBuf,
    /// The server to build it in (its account is the key's; tenants become its tenants)
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An administrator's API key of the target account
    #[arg(long, value_name = "KEY", env = "IAMD_API_KEY", hide_env_values = true)]
    api_key: String,
}

#[derive(Args)]
pub struct MirrorArgs {
    /// The server to read (any that speaks the API)
    #[arg(long, value_name = "URL")]
    from: String,
    /// An administrator's API key there
    #[arg(long, value_name = "KEY")]
    api_key: String,
    /// The account to read (default: the key's own)
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// Also mirror the tenants
    #[arg(long)]
    tenants: bool,
    /// The server to build the copy in
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "data_dir",
        conflicts_with = "data_dir",
        requires = "to_api_key"
    )]
    to: Option<String>,
    /// An administrator's API key of the target account
    #[arg(long, value_name = "KEY", env = "IAMD_API_KEY", hide_env_values = true)]
    to_api_key: Option<String>,
    /// Build the copy in this data directory instead (new, or of a stopped server: it gets
    /// a new root admin key in DIR/admin-api-key), through a server run in this process
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Why a build stopped, and whether anything was made before.
fn stopped(what: &str, mapping: &Mapping, e: &str) -> String {
    if mapping.is_empty() {
        format!("{what} stopped before making anything: {e}")
    } else {
        format!("{what} stopped (what is above was made): {e}")
    }
}

/// The account's base path: `/v3` for the key's own, `/v3/accounts/ID` for a tenant.
fn base_of(api: &Api, account: Option<&str>) -> Result<(String, Value), String> {
    let me = api.get("/v3/accounts/me")?;
    match account {
        None => Ok(("/v3".into(), me)),
        Some(id) if me["id"] == id => Ok(("/v3".into(), me)),
        Some(id) => Ok((
            format!("/v3/accounts/{id}"),
            api.get(&format!("/v3/accounts/{id}"))?,
        )),
    }
}

/// Reads one account (and its tenants) into a document.
fn read(api: &Api, account: Option<&str>, tenants: bool) -> Result<Value, String> {
    let (base, me) = base_of(api, account)?;
    let mut doc = read_entities(api, &base, me)?;
    doc["format"] = json!("iamd-export");
    doc["version"] = json!(1);
    doc["source"] = json!(api.base);
    if tenants {
        let mut out = Vec::new();
        for t in api.list("/v3/accounts")? {
            let id = t["id"].as_str().unwrap_or_default().to_string();
            out.push(read_entities(api, &format!("/v3/accounts/{id}"), t)?);
        }
        doc["tenants"] = Value::Array(out);
    }
    Ok(doc)
}

fn read_entities(api: &Api, base: &str, account: Value) -> Result<Value, String> {
    let mut doc = json!({ "account": account });
    for (name, path) in LISTS {
        doc[name] = Value::Array(api.list(&format!("{base}{path}"))?);
    }
    let mut groups = doc["groups"].as_array().cloned().unwrap_or_default();
    for g in &mut groups {
        let id = g["id"].as_str().unwrap_or_default();
        let users = api.list(&format!("{base}/policy-groups/{id}/users"))?;
        g["user_ids"] = users.iter().map(|u| u["id"].clone()).collect();
    }
    doc["groups"] = Value::Array(groups);
    for theme in ["light", "dark"] {
        let colors = api.get(&format!("{base}/branding-colors/{theme}"))?;
        // Own values only (they carry `updated_at`); the rest are inherited or defaults.
        let own: Vec<Value> = colors["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| !c["updated_at"].is_null())
            .map(|c| json!({"reference": c["reference"], "color": c["color"]}))
            .collect();
        doc["branding_colors"][theme] = Value::Array(own);
    }
    doc["branding_images"] = images::read(api, base)?;
    Ok(doc)
}

/// A record as a create request: what the server made removed.
fn as_request(v: &Value) -> Value {
    let mut m: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    for k in MADE {
        m.remove(k);
    }
    Value::Object(m)
}

/// Old id -> new id, by kind, for the printed mapping.
type Mapping = Vec<(String, String, String)>;

/// Builds `doc` in the target's account (`base`), then its tenants.
fn build(api: &Api, doc: &Value, mapping: &mut Mapping) -> Result<(), String> {
    build_account(api, "/v3", doc, mapping)?;
    let src = &doc["account"]["id"];
    let dst = api.get("/v3/accounts/me")?["id"].clone();
    mapping.push(("account".into(), str_of(src), str_of(&dst)));
    for t in doc["tenants"].as_array().into_iter().flatten() {
        let a = &t["account"];
        let name = a["display_name"].as_str().unwrap_or("tenant");
        let existing = api
            .list("/v3/accounts")?
            .into_iter()
            .find(|x| x["display_name"].as_str() == Some(name));
        let id = match existing {
            Some(x) => str_of(&x["id"]),
            None => {
                // The tenant's admin: the first exported user in its Administrators group.
                let admin = tenant_admin(t)
                    .unwrap_or_else(|| format!("admin@{}.invalid", str_of(&a["id"])));
                let password = iamd::auth::apikey::random_secret(20);
                let end_market = a["end_market"].as_str().filter(|s| !s.is_empty());
                let created = api.call(
                    "POST",
                    "/v3/accounts",
                    Some(&json!({
                        "display_name": name,
                        "admin_email": admin,
                        "admin_password": password,
                        "end_market": end_market.unwrap_or("IT"),
                    })),
                )?;
                println!("password {admin} {password}");
                str_of(&created["id"])
            }
        };
        mapping.push(("tenant".into(), str_of(&a["id"]), id.clone()));
        build_account(api, &format!("/v3/accounts/{id}"), t, mapping)?;
    }
    Ok(())
}

fn tenant_admin(doc: &Value) -> Option<String> {
    let admins = doc["groups"]
        .as_array()?
        .iter()
        .find(|g| g["name"] == "Administrators")?;
    let ids = admins["user_ids"].as_array()?;
    doc["users"]
        .as_array()?
        .iter()
        .find(|u| ids.contains(&u["id"]))
        .map(|u| str_of(&u["email"]))
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn build_account(api: &Api, base: &str, doc: &Value, mapping: &mut Mapping) -> Result<(), String> {
    // Groups first (users are created in them), matched by name.
    let mut group_ids: BTreeMap<String, String> = BTreeMap::new();
    let have: BTreeMap<String, String> = api
        .list(&format!("{base}/policy-groups"))?
        .iter()
        .map(|g| (str_of(&g["name"]), str_of(&g["id"])))
        .collect();
    for g in doc["groups"].as_array().into_iter().flatten() {
        let name = str_of(&g["name"]);
        let id = match have.get(&name) {
            Some(id) => id.clone(),
            None => str_of(
                &api.call(
                    "POST",
                    &format!("{base}/policy-groups"),
                    Some(&json!({"name": name})),
                )?["id"],
            ),
        };
        mapping.push(("group".into(), str_of(&g["id"]), id.clone()));
        group_ids.insert(str_of(&g["id"]), id);
    }
    // Users, matched by email; new ones get a new password, printed once.
    let have: BTreeMap<String, String> = api
        .list(&format!("{base}/users"))?
        .iter()
        .map(|u| (str_of(&u["email"]).to_lowercase(), str_of(&u["id"])))
        .collect();
    for u in doc["users"].as_array().into_iter().flatten() {
        let email = str_of(&u["email"]);
        let groups: Vec<String> = doc["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| {
                g["user_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.contains(&u["id"]))
            })
            .filter_map(|g| group_ids.get(&str_of(&g["id"])).cloned())
            .collect();
        let id = match have.get(&email.to_lowercase()) {
            Some(id) => id.clone(),
            None => {
                let password = iamd::auth::apikey::random_secret(20);
                let mut body = json!({"email": email, "password": password, "groups": groups});
                for k in ["username", "full_name", "phone_number", "address"] {
                    if !u[k].is_null() {
                        body[k] = u[k].clone();
                    }
                }
                let created = api.call("POST", &format!("{base}/users"), Some(&body))?;
                let id = str_of(&created["id"]);
                let status = u["status"].as_str().unwrap_or("ACTIVE");
                if status != created["status"].as_str().unwrap_or("") {
                    api.call(
                        "PUT",
                        &format!("{base}/users/{id}"),
                        Some(&json!({"status": status})),
                    )?;
                }
                println!("password {email} {password}");
                id
            }
        };
        mapping.push(("user".into(), str_of(&u["id"]), id));
    }
    for (list, path, kind) in [
        (
            "trusted_certificates",
            "/trusted-certificates",
            "trusted_certificate",
        ),
        (
            "identity_providers",
            "/identity-providers",
            "identity_provider",
        ),
    ] {
        let have: BTreeMap<String, String> = api
            .list(&format!("{base}{path}"))?
            .iter()
            .map(|x| (str_of(&x["name"]), str_of(&x["id"])))
            .collect();
        for x in doc[list].as_array().into_iter().flatten() {
            let id = match have.get(&str_of(&x["name"])) {
                Some(id) => id.clone(),
                None => {
                    let mut body = as_request(x);
                    if kind == "trusted_certificate" {
                        // What the server derives from the PEM is not sent back.
                        body = json!({
                            "name": x["name"], "service": x["service"],
                            "certificate": x["certificate"], "description": x["description"],
                            "status": x["status"], "enrollment_mode": x["enrollment_mode"],
                        });
                    }
                    str_of(&api.call("POST", &format!("{base}{path}"), Some(&body))?["id"])
                }
            };
            mapping.push((kind.into(), str_of(&x["id"]), id));
        }
    }
    for theme in ["light", "dark"] {
        // Only what the target does not show already: a tenant's colors inherited from its
        // parent (built first) stay inherited instead of becoming its own.
        let shown = api.get(&format!("{base}/branding-colors/{theme}"))?;
        let shown: BTreeMap<String, String> = shown["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (str_of(&c["reference"]), str_of(&c["color"]).to_lowercase()))
            .collect();
        let colors: Vec<Value> = doc["branding_colors"][theme]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                shown.get(&str_of(&c["reference"])) != Some(&str_of(&c["color"]).to_lowercase())
            })
            .cloned()
            .collect();
        if !colors.is_empty() {
            api.call(
                "PUT",
                &format!("{base}/branding-colors/{theme}"),
                Some(&Value::Array(colors)),
            )?;
        }
    }
    images::build(api, base, &doc["branding_images"])
}

fn print_mapping(mapping: &Mapping) {
    for (kind, old, new) in mapping {
        println!("{kind} {old} -> {new}");
    }
}

pub fn export(args: &ExportArgs) -> ExitCode {
    let api = Api::new(&args.url, &args.api_key);
    match read(&api, args.account.as_deref(), args.tenants) {
        Ok(doc) => {
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("export: {e}")),
    }
}

pub fn import(args: &ImportArgs) -> ExitCode {
    let doc: Value = match std::fs::read_to_string(&args.file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => return fail(FAILED, &format!("{}: {e}", args.file.display())),
    };
    if doc["format"] != "iamd-export" || doc["version"] != 1 {
        return fail(
            FAILED,
            &format!(
                "{}: not an iamd export (format iamd-export, version 1)",
                args.file.display()
            ),
        );
    }
    let mut mapping = Vec::new();
    let result = build(&Api::new(&args.url, &args.api_key), &doc, &mut mapping);
    print_mapping(&mapping);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(FAILED, &stopped("import", &mapping, &e)),
    }
}

pub fn mirror(args: &MirrorArgs) -> ExitCode {
    let from = Api::new(&args.from, &args.api_key);
    let doc = match read(&from, args.account.as_deref(), args.tenants) {
        Ok(d) => d,
        Err(e) => return fail(FAILED, &format!("reading {}: {e}", args.from)),
    };
    let mut mapping = Vec::new();
    let result = match (&args.data_dir, &args.to) {
        (Some(dir), _) => super::local::with_server(dir, |url, key| {
            build(&Api::new(url, key), &doc, &mut mapping)
        })
        .and_then(|r| r),
        (None, Some(to)) => build(
            &Api::new(to, args.to_api_key.as_deref().unwrap_or("")),
            &doc,
            &mut mapping,
        ),
        (None, None) => Err("give --to URL or --data-dir DIR".into()),
    };
    print_mapping(&mapping);
    match result {
        Ok(()) => {
            if let Some(dir) = &args.data_dir {
                // On stderr: stdout is the mapping, for scripts.
                eprintln!(
                    "iamd: the copy is in {dir}: start a server on it with `IAMD_DATA_DIR={dir} \
                     iamd`; its root admin key is in {key}",
                    dir = dir.display(),
                    key = dir.join(iamd::bootstrap::KEY_FILE).display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &stopped("mirror", &mapping, &e)),
    }
}
