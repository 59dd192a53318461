//! What a route carries in its path: entity ids, and the theme and reference of the branding
//! routes (`ThemeParam`, `ReferencePath`).
//!
//! Entity ids in the path: `PathId<UserId>` reads the route's `{user_id}` segment and parses
//! it once, before the handler runs; `find` loads the entity from the scope's account.
//!
//! A malformed id is an unknown id: both are the same 404 ErrorResponse ("User not found."),
//! which never echoes the segment, and both are answered at the same moment, by `find` (or
//! `get`). So the extractor never fails on a malformed id: a request with a bad body, say,
//! is answered alike whether its id is malformed or merely unknown, as it was when each
//! handler parsed its own path.

use crate::branding::Theme;
use crate::error::{ApiError, ApiResult};
use crate::ids::{
    AccountId, ApiKeyId, CertificateId, GroupId, IdentityProviderId, InvitationId, UserId,
};
use crate::service::{self, scope::AccountScope};
use crate::state::AppState;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::certificates::TrustedCertRecord;
use crate::store::groups::GroupRecord;
use crate::store::identity_providers::IdentityProviderRecord;
use crate::store::invitations::InvitationRecord;
use crate::store::users::UserRecord;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Deserialize;
use std::future::{ready, Ready};

/// An id type that a route carries in a named segment.
pub trait PathParam: Copy + 'static {
    /// The `{segment}` of the route table that carries it.
    const SEGMENT: &'static str;
    /// What its 404 calls the entity.
    const NAME: &'static str;
    fn parse(raw: &str) -> Option<Self>;
}

/// An id type whose entity belongs to an account and can be read by id.
pub trait Lookup: PathParam {
    type Record;
    fn get(state: &AppState, account: &AccountId, id: Self) -> ApiResult<Option<Self::Record>>;
}

/// The 404 of an id of type `T` that is malformed or names nothing.
pub fn not_found<T: PathParam>() -> ApiError {
    ApiError::not_found(T::NAME)
}

/// The id in `T`'s segment of the matched route, `None` when malformed. A route without
/// that segment is a mistake in the route table, not the client's: 500.
pub fn segment<T: PathParam>(req: &HttpRequest) -> ApiResult<Option<T>> {
    let raw = req.match_info().get(T::SEGMENT).ok_or_else(|| {
        ApiError::Internal(format!("the route has no {{{}}} segment", T::SEGMENT))
    })?;
    Ok(T::parse(raw))
}

/// An id from the path, parsed (see the module comment).
#[derive(Clone, Copy, Debug)]
pub struct PathId<T>(Option<T>);

impl<T: PathParam> PathId<T> {
    /// The id; for a malformed one, the 404 of an unknown id.
    pub fn get(&self) -> ApiResult<T> {
        self.0.ok_or_else(not_found::<T>)
    }
}

impl<T: Lookup> PathId<T> {
    /// The entity in the scope's account; the same 404 whether the id is malformed or
    /// names nothing there.
    pub fn find(&self, state: &AppState, scope: &AccountScope) -> ApiResult<T::Record> {
        T::get(state, &scope.id(), self.get()?)?.ok_or_else(not_found::<T>)
    }
}

impl<T: PathParam> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = Ready<ApiResult<PathId<T>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(segment::<T>(req).map(PathId))
    }
}

macro_rules! path_param {
    ($id:ty, $segment:literal, $name:literal) => {
        impl PathParam for $id {
            const SEGMENT: &'static str = $segment;
            const NAME: &'static str = $name;
            fn parse(raw: &str) -> Option<Self> {
                <$id>::parse(raw)
            }
        }
    };
}

path_param!(AccountId, "account_id", "Account");
path_param!(UserId, "user_id", "User");
path_param!(ApiKeyId, "apikey_id", "API key");
path_param!(GroupId, "group_id", "Group");
path_param!(InvitationId, "invitation_id", "Invitation");
path_param!(
    IdentityProviderId,
    "identity_provider_id",
    "Identity provider"
);
path_param!(CertificateId, "cert_id", "Trusted certificate");

/// The id of `/v3/developer-certificates/{developerCertificateId}`: a trusted certificate's
/// id under the spec's segment name, whose 404 speaks of a developer certificate.
#[derive(Clone, Copy, Debug)]
pub struct DeveloperCertificateId(pub CertificateId);

impl DeveloperCertificateId {
    pub fn certificate(self) -> CertificateId {
        self.0
    }
}

impl PathParam for DeveloperCertificateId {
    const SEGMENT: &'static str = "developerCertificateId";
    const NAME: &'static str = "Developer certificate";
    fn parse(raw: &str) -> Option<Self> {
        CertificateId::parse(raw).map(DeveloperCertificateId)
    }
}

impl Lookup for UserId {
    type Record = UserRecord;
    fn get(state: &AppState, account: &AccountId, id: Self) -> ApiResult<Option<UserRecord>> {
        service::users::get(state, account, &id)
    }
}

impl Lookup for ApiKeyId {
    type Record = ApiKeyRecord;
    fn get(state: &AppState, account: &AccountId, id: Self) -> ApiResult<Option<ApiKeyRecord>> {
        service::apikeys::get(state, account, &id)
    }
}

impl Lookup for GroupId {
    type Record = GroupRecord;
    fn get(state: &AppState, account: &AccountId, id: Self) -> ApiResult<Option<GroupRecord>> {
        service::groups::get(state, account, &id)
    }
}

impl Lookup for InvitationId {
    type Record = InvitationRecord;
    /// An expired invitation is gone: 404 like an unknown one.
    fn get(state: &AppState, account: &AccountId, id: Self) -> ApiResult<Option<InvitationRecord>> {
        service::invitations::get(state, account, &id)
    }
}

impl Lookup for IdentityProviderId {
    type Record = IdentityProviderRecord;
    fn get(
        state: &AppState,
        account: &AccountId,
        id: Self,
    ) -> ApiResult<Option<IdentityProviderRecord>> {
        service::identity_providers::get(state, account, &id)
    }
}

impl Lookup for CertificateId {
    type Record = TrustedCertRecord;
    fn get(
        state: &AppState,
        account: &AccountId,
        id: Self,
    ) -> ApiResult<Option<TrustedCertRecord>> {
        service::certificates::get(state, account, &id)
    }
}

/// The theme of a branding route. The route table registers the spec's literal paths
/// (`/branding-colors/light`, `/branding-colors/dark`, ...) to one handler each, and this
/// reads which one matched, so no handler exists twice.
pub struct ThemeParam(pub Theme);

/// The segment after `branding-colors` or `branding-images` in a route pattern.
fn theme_in(pattern: &str) -> Option<Theme> {
    let mut segments = pattern.split('/');
    while let Some(segment) = segments.next() {
        if segment == "branding-colors" || segment == "branding-images" {
            return segments.next()?.parse().ok();
        }
    }
    None
}

impl FromRequest for ThemeParam {
    type Error = ApiError;
    type Future = Ready<Result<ThemeParam, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.match_pattern()
                .and_then(|p| theme_in(&p))
                .map(ThemeParam)
                .ok_or_else(|| ApiError::Internal("branding route without a theme".into())),
        )
    }
}

#[derive(Deserialize)]
pub struct ReferencePath {
    pub reference: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    async fn echo(id: PathId<UserId>) -> ApiResult<HttpResponse> {
        Ok(HttpResponse::Ok().body(id.get()?.hex()))
    }

    async fn call(uri: &str) -> (u16, serde_json::Value, String) {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(super::super::request_id::middleware))
                .route("/users/{user_id}", web::get().to(echo))
                .route("/groups/{group_id}", web::get().to(echo)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        let status = res.status().as_u16();
        let bytes = test::read_body(res).await;
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_default(),
            text,
        )
    }

    #[actix_web::test]
    async fn a_well_formed_id_is_parsed_once_for_the_handler() {
        let id = UserId::new();
        let (status, _, text) = call(&format!("/users/{}", id.hex().to_uppercase())).await;
        assert_eq!((status, text), (200, id.hex()));
    }

    #[actix_web::test]
    async fn a_malformed_id_is_the_404_of_an_unknown_one_and_echoes_nothing() {
        let secret = "ak_0123456789secretsecret";
        for raw in [secret, "0123", &"g".repeat(32), &"a".repeat(33)] {
            let (status, body, text) = call(&format!("/users/{raw}")).await;
            assert_eq!(status, 404, "{raw}");
            assert_eq!(body["code"], 404);
            assert_eq!(body["object"], "error");
            assert_eq!(body["type"], "not_found");
            assert_eq!(body["message"], "User not found.");
            assert_eq!(body["request_id"].as_str().map(str::len), Some(32));
            assert!(body.get("fields").is_none());
            assert!(!text.contains(raw), "{text}");
        }
    }

    #[actix_web::test]
    async fn a_route_without_the_segment_is_a_server_mistake_not_a_404() {
        let (status, body, text) = call(&format!("/groups/{}", GroupId::new())).await;
        assert_eq!(status, 500);
        assert_eq!(body["type"], "internal_server_error");
        assert!(!text.contains("user_id"), "{text}");
    }
}

#[cfg(test)]
mod theme_tests {
    use super::*;

    #[test]
    fn theme_is_read_from_either_route_family() {
        assert_eq!(theme_in("/v3/branding-colors/light"), Some(Theme::Light));
        assert_eq!(
            theme_in("/v3/accounts/{account_id}/branding-images/dark/{reference}/upload"),
            Some(Theme::Dark)
        );
        assert_eq!(theme_in("/v3/branding-colors/{reference}"), None);
        assert_eq!(theme_in("/v3/users"), None);
    }
}
