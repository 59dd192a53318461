//! iamd: a self-hosted server for the Pelion Device Management Account Management API v3.
//!
//! `server::start` opens the store, runs the first-start bootstrap and serves the API; both
//! `main` and the integration tests call it.

pub mod api;
pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod branding;
pub mod clock;
pub mod config;
pub mod console;
pub mod datadir;
pub mod dev;
pub mod email;
pub mod error;
pub mod ids;
pub mod limits;
pub mod logging;
pub mod pki;
pub mod private;
pub mod provision;
pub mod ratelimit;
pub mod server;
pub mod service;
pub mod state;
pub mod status;
pub mod store;
pub mod tls;

#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod layering_tests;
