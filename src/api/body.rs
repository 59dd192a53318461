//! JSON request bodies: size-limited, and every parse error names the offending field. And
//! [`json_response`], for JSON response bodies.

use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize};

/// `value` as the JSON body of `response`. `HttpResponseBuilder::json` renders into a
/// `String` that starts at 128 bytes and is copied as it doubles: a user view (~630 bytes)
/// took three reallocations. This starts at 1 KiB.
pub fn json_response(mut response: HttpResponseBuilder, value: &impl Serialize) -> HttpResponse {
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => response
            .content_type(header::ContentType::json())
            .body(body),
        Err(e) => ApiError::Internal(format!("cannot render the response: {e}")).error_response(),
    }
}

/// A JSON body of type `T`. Unknown fields are ignored: clients echo whole read models back.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Json<T>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.max_json_body_bytes)
            .unwrap_or(1024 * 1024);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let bytes = read_limited(&mut payload, limit).await?;
            parse(&bytes).map(Json)
        })
    }
}

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            // The request deadline (`limits` middleware) cut the body off.
            actix_web::error::PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                ApiError::RequestTimeout
            }
            e => ApiError::BadRequest(format!("Cannot read the request body: {e}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON, naming the field (as a path like `groups[0]`) that broke the parse. A
/// required field that is missing is named too (`login_profiles[1].id`), as a validation
/// error like any other bad field, so clients can show which one.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none() {
        return Err(ApiError::BadRequest(
            "A JSON request body is required.".into(),
        ));
    }
    // serde's derived structs also read a JSON array as their fields in order, so that
    // `[null, null]` would be taken as an update. A body the spec makes an object must be one.
    if first == Some(&b'[') && wants_object::<T>() {
        return Err(ApiError::BadRequest(
            "The request body must be a JSON object.".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        if let Some(field) = missing_field(&message) {
            let name = match path.as_str() {
                "." => field.to_string(),
                parent => format!("{parent}.{field}"),
            };
            ApiError::fields(vec![FieldError::new(name, "Required.")])
        } else if inner.is_syntax() || inner.is_eof() || path == "." {
            ApiError::BadRequest(format!("Malformed JSON body: {inner}"))
        } else {
            ApiError::fields(vec![FieldError::new(path, message)])
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("Malformed JSON body: {e}")))?;
    Ok(value)
}

/// The field of serde's "missing field `x`" error.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// Whether `T` is read from a JSON object (a struct or a map). Asked of `T` itself by a
/// deserializer that only notes which kind of input `T` asks for.
fn wants_object<T: DeserializeOwned>() -> bool {
    let probe = Probe::default();
    let _ = T::deserialize(&probe);
    probe.object.get()
}

#[derive(Default)]
struct Probe {
    object: std::cell::Cell<bool>,
}

impl<'de> Deserializer<'de> for &Probe {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("probe"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.object.set(true);
        Err(de::Error::custom("probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn only_structs_and_maps_want_objects() {
        assert!(wants_object::<Named>());
        assert!(wants_object::<std::collections::BTreeMap<String, String>>());
        assert!(!wants_object::<Vec<String>>());
        assert!(!wants_object::<serde_json::Value>());
        assert!(!wants_object::<Option<Named>>());
    }

    #[test]
    fn arrays_and_missing_fields_are_refused_with_a_name() {
        let err = parse::<Named>(b" [\"x\"]").unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(_)), "{err:?}");
        match parse::<Named>(b"{}").unwrap_err() {
            ApiError::Validation { fields, .. } => assert_eq!(fields[0].name, "name"),
            other => panic!("{other:?}"),
        }
        match parse::<Vec<Named>>(b"[{\"name\": \"a\"}, {}]").unwrap_err() {
            ApiError::Validation { fields, .. } => assert_eq!(fields[0].name, "[1].name"),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse::<Vec<String>>(b"[\"a\"]").unwrap(), ["a"]);
    }
}
