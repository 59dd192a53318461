//! The JSON answers (views) that more than one handler module sends, so that no handler
//! imports another: users, API keys, groups, accounts, and the `UpdatedResponse` of
//! membership changes. A view is built from records; it never holds a secret a record
//! keeps (hashes, digests).

pub mod accounts;
pub mod apikeys;
pub mod groups;
pub mod users;

use crate::ids::Id;
use actix_web::HttpResponse;
use serde::Serialize;

/// `UpdatedResponse`: the answer of membership changes and renames.
#[derive(Serialize)]
struct UpdatedResponse {
    code: u16,
    id: String,
    message: &'static str,
    object: &'static str,
    request_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A 200 `UpdatedResponse` about entity `id` of kind `object` (`group`, `api-key`, ...).
pub fn updated(object: &'static str, id: &Id) -> HttpResponse {
    HttpResponse::Ok().json(UpdatedResponse {
        code: 200,
        id: id.hex(),
        message: "success",
        object,
        request_id: super::request_id::current(),
        kind: "success",
    })
}

/// `BrandingColorList` / `BrandingImageList`: every reference, in one page.
#[derive(Serialize)]
pub struct BrandingList<T> {
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    pub total_count: usize,
    pub limit: usize,
    pub order: &'static str,
}

impl<T: Serialize> BrandingList<T> {
    pub fn respond(data: Vec<T>) -> HttpResponse {
        HttpResponse::Ok().json(BrandingList {
            object: "list",
            total_count: data.len(),
            limit: data.len(),
            data,
            has_more: false,
            order: "ASC",
        })
    }
}
