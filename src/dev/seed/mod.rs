//! Seed files: tenants, users, API keys with given secrets, groups and memberships, trusted
//! certificates, branding colors and images, described in YAML (or JSON, which YAML reads too) and
//! applied in one transaction (`apply`). Idempotent: an entity that exists already (matched
//! by email, name, key or tenant name) is left as it is, so a second run changes nothing.
//! All or nothing: a bad file, or an entry the store refuses, changes nothing, and the error
//! names the line (syntax, unknown keys, wrong types) or the entry (`tenants[0].users[1]`).
//! The schema is documented in README.md § Seeding; `examples/seed.yaml` is an example.

mod apply;
mod images;

pub use apply::{apply, Summary};
pub use images::{inline_files, ImagePlan, ImageRules, ImageSource, ThemeImages};

use crate::auth::{apikey, password};
use crate::branding::Theme;
use crate::ids::{AccountId, ApiKeyId};
use crate::pki::ParsedCert;
use crate::status::{ApiKeyStatus, CertificateStatus, Named, UserStatus};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file: the root account's entities at the top level, and `tenants`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
    #[serde(default)]
    pub api_keys: Vec<KeySeed>,
    #[serde(default)]
    pub trusted_certificates: Vec<CertSeed>,
    #[serde(default)]
    pub branding_colors: ThemeColors,
    #[serde(default)]
    pub branding_images: ThemeImages,
    #[serde(default)]
    pub tenants: Vec<TenantSeed>,
}

/// What an account of the file holds.
#[derive(Debug, Default)]
pub struct AccountEntities {
    pub groups: Vec<GroupSeed>,
    pub users: Vec<UserSeed>,
    pub api_keys: Vec<KeySeed>,
    pub trusted_certificates: Vec<CertSeed>,
    /// Theme (`light`, `dark`) -> color reference (`primary`, ...) -> color.
    pub branding_colors: ThemeColors,
    /// Theme -> image reference (`brand_logo_square`, ...) -> file or base64.
    pub branding_images: ThemeImages,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSeed {
    /// Matches an existing tenant of the root account by this name.
    pub display_name: String,
    pub admin_email: String,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
    #[serde(default)]
    pub api_keys: Vec<KeySeed>,
    #[serde(default)]
    pub trusted_certificates: Vec<CertSeed>,
    #[serde(default)]
    pub branding_colors: ThemeColors,
    #[serde(default)]
    pub branding_images: ThemeImages,
}

/// Color reference (`primary`, ...) -> color, per theme.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeColors {
    #[serde(default)]
    pub light: BTreeMap<String, String>,
    #[serde(default)]
    pub dark: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    /// Without one the user cannot sign in with a password.
    #[serde(default)]
    pub password: Option<String>,
    /// `ACTIVE` (the default), `INACTIVE`, `ENROLLING`, `INVITED` or `RESET`.
    #[serde(default)]
    pub status: Option<String>,
    /// Group names of the same account (`Administrators`, `Developers` or a seeded group).
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySeed {
    pub name: String,
    /// The whole key (`iamd admin-key --new --account ID` prints one): its text names the
    /// account it belongs to, so it must be a key of this account. A tenant whose keys are
    /// given takes its id from them.
    pub key: String,
    /// Email of the owning user (a seeded user or the account's admin).
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSeed {
    pub name: String,
    /// `lwm2m` or `bootstrap`.
    pub service: String,
    /// PEM.
    pub certificate: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Syntax, unknown keys, wrong types: serde_yaml's message names line and column.
    #[error("seed file {path}: {message}")]
    Parse { path: String, message: String },
    /// An entry that cannot be applied: `entry` is its path (`tenants[0].users[1]`).
    #[error("seed file {path}: {entry}: {message}")]
    Entry {
        path: String,
        entry: String,
        message: String,
    },
    #[error("seed: storage failure: {0}")]
    Store(String),
}

/// A seed file read and checked: what `apply` needs, with every password hashed and every
/// certificate parsed, so the transaction only reads and writes.
pub struct Seed {
    pub source: String,
    pub accounts: Vec<AccountPlan>,
}

pub struct AccountPlan {
    /// `root` or `tenants[i]`.
    pub entry: String,
    /// `None` for the root account.
    pub tenant: Option<TenantPlan>,
    pub groups: Vec<String>,
    pub users: Vec<UserPlan>,
    pub keys: Vec<KeyPlan>,
    pub certs: Vec<CertPlan>,
    pub colors: Vec<(Theme, String, String)>,
    pub images: Vec<ImagePlan>,
}

pub struct TenantPlan {
    pub display_name: String,
    pub admin_email: String,
    /// From the tenant's keys, when it has any.
    pub id: Option<AccountId>,
}

pub struct UserPlan {
    pub entry: String,
    pub email: String,
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub password_hash: Option<Vec<u8>>,
    pub status: UserStatus,
    pub groups: Vec<String>,
}

pub struct KeyPlan {
    pub entry: String,
    pub name: String,
    pub account: AccountId,
    pub id: ApiKeyId,
    pub digest: Vec<u8>,
    pub owner: Option<String>,
    pub status: ApiKeyStatus,
    pub groups: Vec<String>,
}

pub struct CertPlan {
    pub entry: String,
    pub name: String,
    pub service: String,
    pub description: Option<String>,
    pub status: CertificateStatus,
    pub parsed: ParsedCert,
}

/// Reads and checks the seed file at `path`; its images' `file`s are relative to its
/// directory, and at most `max_image_bytes` each (`max_image_bytes` of the configuration).
pub fn read(path: &std::path::Path, max_image_bytes: usize) -> Result<Seed, SeedError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: shown.clone(),
        source,
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let rules = ImageRules {
        base_dir: Some(dir),
        max_image_bytes,
    };
    parse(&shown, &text, rules)
}

/// Parses and checks seed text; `source` names it in errors, `images` says how its images
/// are read.
pub fn parse(source: &str, text: &str, images: ImageRules) -> Result<Seed, SeedError> {
    let file: SeedFile = serde_yaml::from_str(text).map_err(|e| SeedError::Parse {
        path: source.into(),
        message: e.to_string(),
    })?;
    let err = |entry: String, message: String| SeedError::Entry {
        path: source.into(),
        entry,
        message,
    };
    let root = AccountEntities {
        groups: file.groups,
        users: file.users,
        api_keys: file.api_keys,
        trusted_certificates: file.trusted_certificates,
        branding_colors: file.branding_colors,
        branding_images: file.branding_images,
    };
    let mut accounts = vec![plan_account("root".into(), None, root, images, &err)?];
    for (i, t) in file.tenants.into_iter().enumerate() {
        let entry = format!("tenants[{i}]");
        let name = t.display_name.trim().to_string();
        if name.is_empty() || name.len() > 100 {
            return Err(err(entry, "display_name: 1 to 100 characters".into()));
        }
        if !crate::service::validate::is_email(&t.admin_email) {
            return Err(err(entry, "admin_email: not an email address".into()));
        }
        let tenant = TenantPlan {
            display_name: name,
            admin_email: t.admin_email,
            id: None,
        };
        let entities = AccountEntities {
            groups: t.groups,
            users: t.users,
            api_keys: t.api_keys,
            trusted_certificates: t.trusted_certificates,
            branding_colors: t.branding_colors,
            branding_images: t.branding_images,
        };
        let mut plan = plan_account(entry.clone(), Some(tenant), entities, images, &err)?;
        let ids: std::collections::BTreeSet<_> = plan.keys.iter().map(|k| k.account).collect();
        if ids.len() > 1 {
            return Err(err(
                entry,
                "api_keys: the keys name different accounts (a tenant's keys must all be \
                 made for one account id)"
                    .into(),
            ));
        }
        if let Some(t) = plan.tenant.as_mut() {
            t.id = ids.into_iter().next();
        }
        accounts.push(plan);
    }
    let mut names = std::collections::BTreeSet::new();
    for a in &accounts {
        if let Some(t) = &a.tenant {
            if !names.insert(t.display_name.to_lowercase()) {
                return Err(err(a.entry.clone(), "display_name: named twice".into()));
            }
        }
    }
    Ok(Seed {
        source: source.into(),
        accounts,
    })
}

type ErrFn<'a> = dyn Fn(String, String) -> SeedError + 'a;

fn status<T: Named>(text: Option<&str>, default: T) -> Result<T, String> {
    match text {
        None => Ok(default),
        Some(t) => {
            T::parse(t).ok_or_else(|| format!("status: must be one of: {}", T::names().join(", ")))
        }
    }
}

fn plan_account(
    entry: String,
    tenant: Option<TenantPlan>,
    e: AccountEntities,
    image_rules: ImageRules,
    err: &ErrFn,
) -> Result<AccountPlan, SeedError> {
    let mut groups = Vec::new();
    for (i, g) in e.groups.into_iter().enumerate() {
        let name = g.name.trim().to_string();
        if name.is_empty() || name.len() > 100 {
            return Err(err(
                format!("{entry}.groups[{i}]"),
                "name: 1 to 100 characters".into(),
            ));
        }
        groups.push(name);
    }
    let mut users = Vec::new();
    for (i, u) in e.users.into_iter().enumerate() {
        let at = format!("{entry}.users[{i}] ({})", u.email);
        if !crate::service::validate::is_email(&u.email) {
            return Err(err(at, "email: not an email address".into()));
        }
        if let Some(p) = &u.password {
            if p.chars().count() < 8 {
                return Err(err(at, "password: at least 8 characters".into()));
            }
        }
        let status =
            status(u.status.as_deref(), UserStatus::Active).map_err(|m| err(at.clone(), m))?;
        users.push(UserPlan {
            email: u.email,
            username: u.username,
            full_name: u.full_name,
            password_hash: u
                .password
                .map(|p| password::hash(&p, password::CHOSEN_ITERATIONS)),
            status,
            groups: u.groups,
            entry: at,
        });
    }
    let mut keys = Vec::new();
    for (i, k) in e.api_keys.into_iter().enumerate() {
        let at = format!("{entry}.api_keys[{i}] ({})", k.name);
        let (account, id) =
            apikey::check_chosen(&k.key).map_err(|m| err(at.clone(), format!("key: {m}")))?;
        let status =
            status(k.status.as_deref(), ApiKeyStatus::Active).map_err(|m| err(at.clone(), m))?;
        keys.push(KeyPlan {
            name: k.name,
            account,
            id,
            digest: apikey::digest(&k.key),
            owner: k.owner,
            status,
            groups: k.groups,
            entry: at,
        });
    }
    let mut certs = Vec::new();
    for (i, c) in e.trusted_certificates.into_iter().enumerate() {
        let at = format!("{entry}.trusted_certificates[{i}] ({})", c.name);
        if !crate::service::certificates::SERVICES.contains(&c.service.as_str()) {
            return Err(err(at, "service: must be lwm2m or bootstrap".into()));
        }
        let parsed =
            crate::pki::parse_trusted_chain(&c.certificate, time::OffsetDateTime::now_utc())
                .map_err(|e| err(at.clone(), format!("certificate: {e}")))?;
        let status = status(c.status.as_deref(), CertificateStatus::Active)
            .map_err(|m| err(at.clone(), m))?;
        certs.push(CertPlan {
            name: c.name,
            service: c.service,
            description: c.description,
            status,
            parsed,
            entry: at,
        });
    }
    let mut colors = Vec::new();
    let themes = [
        (Theme::Light, e.branding_colors.light),
        (Theme::Dark, e.branding_colors.dark),
    ];
    for (theme, refs) in themes {
        for (reference, color) in refs {
            let at = format!("{entry}.branding_colors.{theme}.{reference}");
            if !crate::branding::is_color_reference(&reference) {
                return Err(err(
                    at,
                    "not a color reference (see GET /v3/branding-colors/light)".into(),
                ));
            }
            let color = crate::branding::validate_color(&color)
                .map_err(|e| err(at.clone(), e.to_string()))?;
            colors.push((theme, reference, color));
        }
    }
    let images = images::plan(&entry, e.branding_images, image_rules, err)?;
    Ok(AccountPlan {
        entry,
        tenant,
        groups,
        users,
        keys,
        certs,
        colors,
        images,
    })
}
