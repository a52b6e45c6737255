//! The one error type at the HTTP edge.
//!
//! Every handler returns `Result<_, ApiError>`. An `ApiError` becomes a status code and a
//! body `{"error": {"code", "message", "details"?}}`. Internal causes are logged once, here,
//! and never sent to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::contract::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (bad JSON, wrong types).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no identity, a bad token, a bad signature.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 404: missing, or somebody else's (indistinguishable on purpose).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// 404 for several ids at once; lists them (they are the caller's own input).
    #[error("some {what}s were not found")]
    NotFoundMany {
        what: &'static str,
        ids: Vec<uuid::Uuid>,
    },
    /// 405: the route exists, the method does not.
    #[error("This route does not accept that HTTP method.")]
    MethodNotAllowed,
    /// 409: the resource is in a state that does not allow this.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body or a declared size is over a limit.
    #[error("{message}")]
    PayloadTooLarge {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 414 (the request target) or 431 (the header block): a request too large to read.
    #[error("{message}")]
    RequestTooLarge {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// 415: a content type we do not take.
    #[error("{message}")]
    UnsupportedMediaType {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 422: well-formed but invalid.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 429: too many attempts; `Retry-After` says when to try again.
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
        /// Which limit, its numbers and when it resets.
        details: Option<Value>,
    },
    /// 503: a dependency did not answer; try again later.
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: String,
        retry_after_secs: Option<u32>,
    },
    /// 500: our fault. The cause is logged, the client gets a generic sentence.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::NotFound { .. } | Self::NotFoundMany { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTooLarge { status, .. } => *status,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Conflict { code, .. }
            | Self::PayloadTooLarge { code, .. }
            | Self::RequestTooLarge { code, .. }
            | Self::UnsupportedMediaType { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::TooManyRequests { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::NotFound { .. } | Self::NotFoundMany { .. } => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal(_) => "internal_error",
        }
    }

    fn client_message(&self) -> String {
        match self {
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed with an internal error")
            }
            Self::Unavailable { message, .. } => {
                tracing::warn!(code = self.code(), %message, "dependency unavailable")
            }
            _ => tracing::info!(
                status = status.as_u16(),
                code = self.code(),
                "request rejected"
            ),
        }
        let details = match &self {
            Self::Unprocessable { details, .. }
            | Self::PayloadTooLarge { details, .. }
            | Self::UnsupportedMediaType { details, .. }
            | Self::TooManyRequests { details, .. } => details.clone(),
            Self::NotFoundMany { ids, .. } => Some(json!({ "ids": ids })),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.client_message(),
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let retry_after = match &self {
            Self::Unavailable {
                retry_after_secs, ..
            } => retry_after_secs.map(u64::from),
            Self::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(err: ApiError) -> (StatusCode, Value, Option<String>) {
        let response = err.into_response();
        let status = response.status();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap(), retry)
    }

    #[tokio::test]
    async fn internal_errors_never_leak_their_cause() {
        let cause = anyhow::anyhow!("password authentication failed for user \"admin\"");
        let (status, body, _) = body_of(ApiError::internal(cause)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal_error");
        assert!(!body.to_string().contains("password"), "{body}");
    }

    #[tokio::test]
    async fn unavailable_carries_retry_after() {
        let err = ApiError::Unavailable {
            code: "database_unavailable",
            message: "The database did not answer.".into(),
            retry_after_secs: Some(5),
        };
        let (status, body, retry) = body_of(err).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "database_unavailable");
        assert_eq!(retry.as_deref(), Some("5"));
    }

    #[tokio::test]
    async fn unprocessable_includes_details() {
        let err = ApiError::Unprocessable {
            code: "invalid_batch",
            message: "The batch is invalid.".into(),
            details: Some(json!({"index": 3})),
        };
        let (status, body, _) = body_of(err).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["details"]["index"], 3);
        assert_eq!(body["error"]["message"], "The batch is invalid.");
    }

    #[tokio::test]
    async fn not_found_has_a_stable_code() {
        let (status, body, _) = body_of(ApiError::NotFound { what: "job" }).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "job not found");
    }
}
