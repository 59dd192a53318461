//! The create/update body of identity providers, checked into a `Patch`.

use super::saml;
use super::TYPES;
use crate::error::ApiResult;
use crate::service::validate::Checks;
use crate::status::IdentityProviderStatus;
use crate::store::identity_providers::IdentityProviderRecord;
use serde::Deserialize;

/// `SAML2Req`. For every field, absent or null leaves the stored value; an empty string
/// clears it (`sp_entity_id`: regenerates it); `idp_x509_certs` replaces the list.
/// `sp_x509_cert` and `assertion_endpoint`, which clients echo, are read-only and ignored.
#[derive(Deserialize, Default)]
pub struct Saml2Req {
    #[serde(default)]
    pub entity_descriptor: Option<String>,
    #[serde(default)]
    pub idp_entity_id: Option<String>,
    #[serde(default)]
    pub idp_x509_certs: Option<Vec<String>>,
    #[serde(default)]
    pub slo_endpoint: Option<String>,
    #[serde(default)]
    pub sp_entity_id: Option<String>,
    #[serde(default)]
    pub sso_endpoint: Option<String>,
}

/// `IdentityProviderCreationReq` and `IdentityProviderUpdateReq` (same fields; both
/// require `name` and `type`). Read-only fields of the read model are ignored.
#[derive(Deserialize, Default)]
pub struct IdentityProviderReq {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub saml2_attributes: Option<Saml2Req>,
}

/// A checked change: `Some` fields replace stored ones (`Some(None)` clears).
#[derive(Default, Clone)]
pub(super) struct Patch {
    name: String,
    description: Option<Option<String>>,
    status: Option<IdentityProviderStatus>,
    idp_entity_id: Option<Option<String>>,
    sso_endpoint: Option<Option<String>>,
    slo_endpoint: Option<Option<String>>,
    idp_x509_certs: Option<Vec<String>>,
    /// `Some(None)`: back to the generated default.
    sp_entity_id: Option<Option<String>>,
    entity_descriptor: Option<Option<String>>,
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

const SAML: &str = "saml2_attributes";

impl IdentityProviderReq {
    /// Checks every field (all errors in one 400) and turns the request into a patch.
    /// Values read from `entity_descriptor` fill the fields the request leaves out.
    pub(super) fn check(&self) -> ApiResult<Patch> {
        let mut c = Checks::new();
        let mut p = Patch::default();
        match self.name.as_deref() {
            Some(name) if !name.trim().is_empty() => p.name = name.trim().to_string(),
            _ => c.fail("name", "A name is required."),
        }
        c.text("name", self.name.as_deref(), 100);
        c.max_len("description", self.description.as_deref(), 500);
        p.description = self.description.as_deref().map(non_empty);
        match self.kind.as_deref() {
            None => c.fail("type", "A type is required."),
            kind => c.one_of("type", kind, TYPES),
        }
        p.status = c.choice("status", self.status.as_deref());
        let s = self.saml2_attributes.as_ref();
        let field = |name: &str| format!("{SAML}.{name}");
        if let Some(ed) = s.and_then(|s| s.entity_descriptor.as_deref()) {
            match non_empty(ed) {
                None => p.entity_descriptor = Some(None),
                Some(ed) => match saml::parse_entity_descriptor(&ed) {
                    Ok(md) => {
                        p.idp_entity_id = md.entity_id.map(Some);
                        p.sso_endpoint = md.sso_endpoint.map(Some);
                        p.slo_endpoint = md.slo_endpoint.map(Some);
                        p.idp_x509_certs = (!md.certs.is_empty()).then_some(md.certs);
                        p.entity_descriptor = Some(Some(ed));
                    }
                    Err(e) => c.fail(&field("entity_descriptor"), e),
                },
            }
        }
        if let Some(v) = s.and_then(|s| s.idp_entity_id.as_deref()) {
            let v = non_empty(v);
            if let Some(Err(e)) = v.as_deref().map(saml::check_entity_id) {
                c.fail(&field("idp_entity_id"), e);
            }
            p.idp_entity_id = Some(v);
        }
        if let Some(v) = s.and_then(|s| s.sp_entity_id.as_deref()) {
            let v = non_empty(v);
            if let Some(Err(e)) = v.as_deref().map(saml::check_entity_id) {
                c.fail(&field("sp_entity_id"), e);
            }
            p.sp_entity_id = Some(v);
        }
        for (name, value, slot) in [
            (
                "sso_endpoint",
                s.and_then(|s| s.sso_endpoint.as_deref()),
                &mut p.sso_endpoint,
            ),
            (
                "slo_endpoint",
                s.and_then(|s| s.slo_endpoint.as_deref()),
                &mut p.slo_endpoint,
            ),
        ] {
            if let Some(v) = value {
                let v = non_empty(v);
                if let Some(Err(e)) = v.as_deref().map(saml::check_url) {
                    c.fail(&field(name), e);
                }
                *slot = Some(v);
            }
        }
        if let Some(certs) = s.and_then(|s| s.idp_x509_certs.as_ref()) {
            let name = field("idp_x509_certs");
            if certs.len() > saml::MAX_CERTS {
                c.fail(
                    &name,
                    format!("At most {} certificates are accepted.", saml::MAX_CERTS),
                );
            }
            let mut pems = Vec::new();
            for (i, cert) in certs.iter().enumerate() {
                match saml::normalise_cert(cert) {
                    Ok(pem) if !pems.contains(&pem) => pems.push(pem),
                    Ok(_) => {}
                    Err(e) => c.fail(&name, format!("Certificate {}: {e}", i + 1)),
                }
            }
            p.idp_x509_certs = Some(pems);
        }
        c.finish()?;
        Ok(p)
    }
}

impl Patch {
    /// Pure, so the store may retry it.
    pub(super) fn apply(&self, r: &mut IdentityProviderRecord, default_sp_entity_id: &str) {
        r.name = self.name.clone();
        if let Some(v) = &self.description {
            r.description = v.clone();
        }
        if let Some(v) = self.status {
            r.status = v;
        }
        let s = &mut r.saml2;
        for (slot, value) in [
            (&mut s.idp_entity_id, &self.idp_entity_id),
            (&mut s.sso_endpoint, &self.sso_endpoint),
            (&mut s.slo_endpoint, &self.slo_endpoint),
            (&mut s.entity_descriptor, &self.entity_descriptor),
        ] {
            if let Some(v) = value {
                *slot = v.clone();
            }
        }
        if let Some(v) = &self.idp_x509_certs {
            s.idp_x509_certs = v.clone();
        }
        match &self.sp_entity_id {
            Some(Some(v)) => s.sp_entity_id = v.clone(),
            Some(None) => s.sp_entity_id = default_sp_entity_id.to_string(),
            None if s.sp_entity_id.is_empty() => s.sp_entity_id = default_sp_entity_id.to_string(),
            None => {}
        }
    }
}
