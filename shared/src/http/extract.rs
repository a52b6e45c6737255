//! Extractors whose rejections are `ApiError`s in the documented shape.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(map_rejection(rejection)),
        }
    }
}

fn map_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType {
            code: "unsupported_content_type",
            message: "Send the body as JSON with `Content-Type: application/json`.".into(),
            details: None,
        },
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("invalid_json", "The body is not valid JSON.")
        }
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and the expected type; it describes only the
            // client's own input.
            let detail = e.body_text();
            let detail = detail
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&detail)
                .chars()
                .take(300)
                .collect::<String>();
            ApiError::bad_request(
                "invalid_body",
                format!("The body does not have the expected shape: {detail}"),
            )
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        _ => ApiError::bad_request("invalid_body", "The request body could not be read."),
    }
}

/// The raw body, for routes that verify a signature over the exact bytes; a body over
/// the limit is the documented 413, not axum's plain-text one.
pub struct ApiBytes(pub Bytes);

impl<S> FromRequest<S> for ApiBytes
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|rejection: BytesRejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    body_too_large()
                } else {
                    ApiError::bad_request("invalid_body", "The request body could not be read.")
                }
            })
    }
}

fn body_too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        code: "body_too_large",
        message: format!(
            "The request body is too large; the limit is {} bytes.",
            super::MAX_BODY_BYTES
        ),
        details: None,
    }
}

/// A path id: a malformed one names nothing, so it is as absent as an unknown one (404).
pub fn parse_id(raw: &str, what: &'static str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFound { what })
}

/// `?limit=&cursor=` of a list newest first (galleries, jobs). Checked by
/// [`crate::usecase::paging::Page`]; here only its shape.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Self>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(page)| page)
            .map_err(|_| {
                ApiError::bad_request("invalid_query", "Use `?limit=<1-100>&cursor=<cursor>`.")
            })
    }
}
