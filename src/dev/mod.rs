//! Local development: seeding from a file (`seed`), returning to the seeded state
//! (`POST /admin/reset`, `snapshot`) and injected faults (`faults`). Reset and faults exist
//! only with `[dev] enabled = true`: they let any root admin wipe the server.

pub mod faults;
pub mod reset;
pub mod seed;
pub mod snapshot;

use serde::{Deserialize, Serialize};

/// `[dev]`: local development and client testing.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevConfig {
    /// Turns on `POST /admin/reset` and `PUT/DELETE /admin/faults` (off: both answer 404).
    pub enabled: bool,
    /// A seed file (YAML or JSON, see README.md § Seeding) applied at the first start.
    pub seed_file: String,
    /// Faults injected from the start (dev mode only); `PUT /admin/faults` replaces them.
    /// File only (no variable: a list of tables has no plain-text form), hence left out of
    /// the key list while empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<faults::FaultSpec>,
}

impl DevConfig {
    /// Checks what the configuration can check alone; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, fault) in self.faults.iter().enumerate() {
            fault
                .validate()
                .map_err(|(field, why)| (format!("dev.faults[{i}].{field}"), why))?;
        }
        if !self.faults.is_empty() && !self.enabled {
            return Err((
                "dev.faults".into(),
                "needs dev.enabled = true (faults are injected in dev mode only)".into(),
            ));
        }
        Ok(())
    }
}

/// What the application needs in dev mode (none when it is off).
#[derive(Clone)]
pub struct DevData {
    pub baseline: actix_web::web::Data<reset::Baseline>,
    pub faults: actix_web::web::Data<faults::Faults>,
}

impl DevData {
    /// Dev mode's state, empty until [`start`] sets the baseline; none when it is off.
    pub fn new(config: &DevConfig) -> Option<DevData> {
        config.enabled.then(|| DevData {
            baseline: actix_web::web::Data::new(reset::Baseline(Default::default())),
            faults: actix_web::web::Data::new(faults::Faults::new(config.faults.clone())),
        })
    }
}

/// Reads and checks `[dev] seed_file` (before the first start's bootstrap: a bad file stops
/// the start before it makes anything).
pub fn read_seed(config: &crate::config::Config) -> Result<Option<seed::Seed>, seed::SeedError> {
    match config.dev.seed_file.trim() {
        "" => Ok(None),
        path => seed::read(std::path::Path::new(path), config.max_image_bytes).map(Some),
    }
}

/// After the bootstrap: applies the seed at the first start, and in dev mode sets the
/// baseline that reset returns to: the state after the first start's bootstrap and seed,
/// kept in the data directory (`dev-baseline`); a data directory first started without dev
/// mode gets the state of the start that turned it on.
pub async fn start(
    store: &crate::store::Store,
    config: &crate::config::Config,
    first_start: bool,
    seed: Option<seed::Seed>,
    dev: Option<&DevData>,
) -> Result<(), String> {
    if let (true, Some(seed)) = (first_start, &seed) {
        let summary = seed::apply(store, seed).await.map_err(|e| e.to_string())?;
        log::info!("seeded from {}: {summary}", seed.source);
    }
    let Some(dev) = dev else {
        return Ok(());
    };
    let on_disk = crate::store::Location::parse(&config.store.url)
        .is_ok_and(|l| l == crate::store::Location::DataDir);
    let dir = &config.data_dir;
    let loaded = if on_disk && !first_start {
        snapshot::load(dir).map_err(|e| format!("{}: {e}", snapshot::path(dir).display()))?
    } else {
        None
    };
    let baseline = match loaded {
        Some(b) => b,
        None => {
            store.last_login.persist().map_err(|e| e.to_string())?;
            let b = snapshot::take(&*store.engine).map_err(|e| e.to_string())?;
            if on_disk {
                snapshot::save(dir, &b)
                    .map_err(|e| format!("{}: {e}", snapshot::path(dir).display()))?;
            }
            b
        }
    };
    log::warn!(
        "dev mode is on ([dev] enabled): POST /admin/reset returns the server to its \
         baseline and PUT /admin/faults injects errors, for any root admin. Never in \
         production."
    );
    *dev.baseline.0.lock().unwrap_or_else(|e| e.into_inner()) = baseline;
    Ok(())
}
