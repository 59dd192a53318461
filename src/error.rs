//! `ApiError`: the one place that turns failures into `ErrorResponse` bodies.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A field that failed validation, as the spec's `ErrorResponse.fields` items.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub name: String,
    pub message: String,
}

impl FieldError {
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            name: name.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input that cannot be read at all (malformed JSON, bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// Input that was read but breaks the rules; `fields` names each offending field.
    #[error("{message}")]
    Validation {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    /// A 401 about named fields (a login's missing or wrong `otp`).
    #[error("{message}")]
    UnauthorizedFields {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Method not allowed.")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("Request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Too many failed authentication attempts; retry in {0} seconds.")]
    TooManyRequests(u64),
    #[error("The request took too long to arrive.")]
    RequestTimeout,
    #[error("The query string is longer than {0} bytes.")]
    UriTooLong(usize),
    #[error("The request headers are larger than {0} bytes.")]
    HeadersTooLarge(usize),
    /// The message is logged, never sent: it may hold internals.
    #[error("{0}")]
    Internal(String),
    /// The server cannot write now (its disk is full or failing); retry later.
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    pub fn field(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            message: "Validation error.".into(),
            fields: vec![FieldError::new(name, message)],
        }
    }

    pub fn fields(fields: Vec<FieldError>) -> ApiError {
        ApiError::Validation {
            message: "Validation error.".into(),
            fields,
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found."))
    }

    pub fn forbidden() -> ApiError {
        ApiError::Forbidden("Forbidden: this operation needs other permissions.".into())
    }

    /// The error body for a bare status that some other layer produced (405, 404, ...).
    pub fn from_status(status: StatusCode) -> ApiError {
        match status.as_u16() {
            401 => ApiError::Unauthorized("Authentication failure.".into()),
            403 => ApiError::forbidden(),
            404 => ApiError::NotFound("Not found.".into()),
            405 => ApiError::MethodNotAllowed,
            413 => ApiError::PayloadTooLarge(0),
            415 => ApiError::UnsupportedMediaType("Unsupported media type.".into()),
            408 => ApiError::RequestTimeout,
            s if (400..500).contains(&s) => ApiError::BadRequest(
                status
                    .canonical_reason()
                    .unwrap_or("Bad request")
                    .to_string(),
            ),
            _ => ApiError::Internal(format!("upstream status {status}")),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Validation { .. } => "validation_error",
            ApiError::Unauthorized(_) => "invalid_token",
            ApiError::UnauthorizedFields { .. } => "validation_error",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "duplicate",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::UriTooLong(_) => "uri_too_long",
            ApiError::HeadersTooLarge(_) => "request_header_fields_too_large",
            ApiError::Internal(_) => "internal_server_error",
            ApiError::Unavailable(_) => "service_unavailable",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u16,
    message: String,
    object: &'static str,
    request_id: String,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [FieldError]>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Validation { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::UnauthorizedFields { .. } => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            ApiError::Internal(detail) => {
                log::error!("internal error: {detail}");
                "Internal server error.".to_string()
            }
            ApiError::PayloadTooLarge(0) => "Request body is too large.".to_string(),
            other => other.to_string(),
        };
        let fields = match self {
            ApiError::Validation { fields, .. } | ApiError::UnauthorizedFields { fields, .. } => {
                Some(fields.as_slice())
            }
            _ => None,
        };
        let body = ErrorBody {
            code: status.as_u16(),
            message,
            object: "error",
            request_id: crate::api::request_id::current(),
            kind: self.kind(),
            fields,
        };
        let mut response = HttpResponse::build(status);
        if let ApiError::TooManyRequests(secs) = self {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let ApiError::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if let ApiError::Unauthorized(_) | ApiError::UnauthorizedFields { .. } = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let reason = crate::api::request_id::Reason(body.message.clone());
        let mut response = response.json(body);
        // For the request log (`request_id::finish`), which does not parse bodies.
        response.extensions_mut().insert(reason);
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Invalid(field, message) => ApiError::field(field, message),
            StoreError::Forbidden(message) => ApiError::Forbidden(message),
            StoreError::Backend(detail) => ApiError::Internal(detail),
            StoreError::Unavailable(message) => ApiError::Unavailable(message),
            e @ StoreError::Damaged { .. } => ApiError::Internal(e.to_string()),
            StoreError::Retry => {
                ApiError::Internal("a transaction conflict escaped its retry".into())
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
