//! Injected faults (dev mode only): chosen routes answer a given error status, or answer
//! late, for a share of their requests, so client developers can test retries and error
//! paths. Every injected answer is an ErrorResponse, and the request log marks it
//! (`reason="injected fault: ..."`, for 5xx too).

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use serde::{Deserialize, Serialize};
use std::sync::RwLock;
use std::time::Duration;

/// One fault: which requests it hits and what they get.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Requests whose path starts with this (`/v3/users`).
    pub path: String,
    /// Only this method (`GET`, ...); none: every method.
    #[serde(default)]
    pub method: Option<String>,
    /// The status answered: 429 (with `Retry-After`), 500 or 503. None: latency only.
    #[serde(default)]
    pub status: Option<u16>,
    /// Milliseconds added before the request is served (or the fault answered).
    #[serde(default)]
    pub latency_ms: u64,
    /// The share of matching requests hit, from 0 to 1 (default 1: all).
    #[serde(default = "all")]
    pub share: f64,
    /// `Retry-After` of a 429 or 503, in seconds (default 1).
    #[serde(default = "one")]
    pub retry_after_secs: u64,
}

fn all() -> f64 {
    1.0
}

fn one() -> u64 {
    1
}

impl FaultSpec {
    /// The field at fault and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.path.starts_with('/') {
            return Err(("path", "must start with /".into()));
        }
        if let Some(m) = &self.method {
            if !["GET", "POST", "PUT", "DELETE"].contains(&m.as_str()) {
                return Err(("method", "must be GET, POST, PUT or DELETE".into()));
            }
        }
        if let Some(s) = self.status {
            if ![429, 500, 503].contains(&s) {
                return Err(("status", "must be 429, 500 or 503".into()));
            }
        }
        if self.status.is_none() && self.latency_ms == 0 {
            return Err(("status", "give a status, a latency_ms, or both".into()));
        }
        if self.latency_ms > 60_000 {
            return Err(("latency_ms", "at most 60000".into()));
        }
        if !(0.0..=1.0).contains(&self.share) {
            return Err(("share", "must be from 0 to 1".into()));
        }
        if self.retry_after_secs > 3600 {
            return Err(("retry_after_secs", "at most 3600".into()));
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path) && self.method.as_deref().is_none_or(|m| m == method)
    }
}

/// The faults in force (shared by every worker).
#[derive(Default)]
pub struct Faults(RwLock<Vec<FaultSpec>>);

impl Faults {
    pub fn new(initial: Vec<FaultSpec>) -> Faults {
        Faults(RwLock::new(initial))
    }

    pub fn set(&self, faults: Vec<FaultSpec>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn list(&self) -> Vec<FaultSpec> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first fault that hits this request (the share drawn per request).
    fn pick(&self, method: &str, path: &str) -> Option<FaultSpec> {
        let faults = self.0.read().unwrap_or_else(|e| e.into_inner());
        let fault = faults.iter().find(|f| f.matches(method, path))?;
        let mut b = [0u8; 4];
        crate::ids::random_bytes(&mut b);
        let draw = u32::from_be_bytes(b) as f64 / u32::MAX as f64;
        (draw < fault.share || fault.share >= 1.0).then(|| fault.clone())
    }
}

/// The middleware: present only in dev mode. The fault routes themselves are never hit, so
/// a client can always clear the faults.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let fault = match req.app_data::<web::Data<Faults>>() {
        Some(faults) if !req.path().starts_with("/admin/") => {
            faults.pick(req.method().as_str(), req.path())
        }
        _ => None,
    };
    let Some(fault) = fault else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    let error = match fault.status {
        None => return Ok(next.call(req).await?.map_into_boxed_body()),
        Some(429) => ApiError::TooManyRequests(fault.retry_after_secs),
        Some(500) => {
            ApiError::Internal(format!("injected fault on {} {}", req.method(), req.path()))
        }
        Some(_) => ApiError::Unavailable("Service unavailable (injected fault).".into()),
    };
    let mut res = req.error_response(error);
    if fault.status == Some(503) {
        if let Ok(v) = fault.retry_after_secs.to_string().parse() {
            res.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
    }
    let reason = format!(
        "{} ({} on {} {}*)",
        crate::api::request_id::INJECTED,
        res.status().as_u16(),
        fault.method.as_deref().unwrap_or("any method"),
        fault.path
    );
    res.response_mut()
        .extensions_mut()
        .insert(crate::api::request_id::Reason(reason));
    Ok(res.map_into_boxed_body())
}
