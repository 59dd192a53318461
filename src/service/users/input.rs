//! The request bodies of the user routes, and how an update is checked and applied.

use super::LoginProfileRef;
use crate::error::{ApiError, ApiResult};
use crate::ids::Id;
use crate::service::validate::{self, nullable, Checks};
use crate::status::UserStatus;
use crate::store::users::UserRecord;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `UserInfoReq`.
#[derive(Deserialize, Default)]
pub struct UserCreate {
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub is_gtc_accepted: Option<bool>,
    #[serde(default)]
    pub is_marketing_accepted: Option<bool>,
    #[serde(default)]
    pub login_profiles: Option<Vec<LoginProfileRef>>,
}

/// `UserUpdateReq`, also accepting the whole `UserInfoResp` that clients echo back.
#[derive(Deserialize, Default, Clone)]
pub struct UserUpdate {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone_number: Option<Option<String>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub is_gtc_accepted: Option<bool>,
    #[serde(default)]
    pub is_marketing_accepted: Option<bool>,
    #[serde(default)]
    pub is_totp_enabled: Option<bool>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub login_profiles: Option<Vec<LoginProfileRef>>,
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, String>>,
    /// A current TOTP code, to turn one's own TOTP off (also the `X-OTP` header).
    #[serde(default)]
    pub otp: Option<String>,
}

impl UserUpdate {
    /// Checks every field at once; returns the status the update sets, if any.
    pub fn validate(&self) -> ApiResult<Option<UserStatus>> {
        let mut c = Checks::new();
        c.email("email", self.email.as_deref());
        c.username("username", self.username.as_deref());
        c.text(
            "full_name",
            self.full_name.clone().flatten().as_deref(),
            100,
        );
        c.text("address", self.address.clone().flatten().as_deref(), 100);
        c.text(
            "phone_number",
            self.phone_number.clone().flatten().as_deref(),
            100,
        );
        c.custom_fields("custom_fields", self.custom_fields.as_ref());
        let status = c.choice("status", self.status.as_deref());
        c.finish()?;
        Ok(status)
    }

    /// Refuses changes to fields only admins may change (`status`, `groups`,
    /// `login_profiles`); echoing their current values is fine.
    pub fn check_rights(
        &self,
        status: Option<UserStatus>,
        current: &UserRecord,
        is_admin: bool,
    ) -> ApiResult<()> {
        if is_admin {
            return Ok(());
        }
        if status.is_some_and(|s| s != current.status) {
            return Err(ApiError::Forbidden(
                "Only administrators may change a user's status.".into(),
            ));
        }
        if let Some(groups) = &self.groups {
            let wanted = validate::ids("groups", groups)?;
            if !same_set(&wanted, &current.groups) {
                return Err(ApiError::Forbidden(
                    "Only administrators may change a user's groups.".into(),
                ));
            }
        }
        if let Some(profiles) = &self.login_profiles {
            let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
            let wanted = validate::ids("login_profiles", &ids)?;
            if !same_set(&wanted, &current.login_profiles) {
                return Err(ApiError::Forbidden(
                    "Only administrators may change login profiles.".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes the update (with `status`, what `validate` returned) into `u`.
    pub fn apply(&self, status: Option<UserStatus>, u: &mut UserRecord) {
        if let Some(v) = &self.email {
            if v.to_lowercase() != u.email.to_lowercase() {
                u.email_verified = false;
            }
            u.email = v.clone();
        }
        if let Some(v) = &self.username {
            u.username = Some(v.clone());
        }
        for (field, value) in [
            (&mut u.full_name, &self.full_name),
            (&mut u.address, &self.address),
            (&mut u.phone_number, &self.phone_number),
        ] {
            if let Some(v) = value {
                *field = v.clone();
            }
        }
        if let Some(v) = status {
            u.status = v;
        }
        if let Some(v) = self.is_gtc_accepted {
            u.is_gtc_accepted = v;
        }
        if let Some(v) = self.is_marketing_accepted {
            u.is_marketing_accepted = v;
        }
        if let Some(v) = self.is_totp_enabled {
            u.is_totp_enabled = v;
        }
        if let Some(v) = &self.custom_fields {
            u.custom_fields = v.clone();
        }
        if let Some(profiles) = &self.login_profiles {
            u.login_profiles = profiles.iter().filter_map(|p| Id::parse(&p.id)).collect();
        }
    }
}

pub fn same_set(a: &[Id], b: &[Id]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}
