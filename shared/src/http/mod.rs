//! HTTP routes, shared by every Lambda binary and by the local server.
//!
//! Handlers translate: they extract and parse the request, call one use-case, and map the
//! result (or an [`ApiError`]) to a response.

mod health;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use deadpool_postgres::Pool;

use crate::config::Config;
use crate::error::ApiError;

/// What every handler can reach: built once at cold start, cloned per request (cheaply).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
}

impl AppState {
    pub fn new(config: Config, pool: Pool) -> Self {
        Self {
            config: Arc::new(config),
            pool,
        }
    }
}

/// Every route Momentarium serves. A Lambda binary serves this router too: API Gateway
/// sends it only its own route, so one router per process costs nothing and keeps one
/// code path.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health::get_health))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound { what: "route" }
}

async fn method_not_allowed() -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({"error": {
            "code": "method_not_allowed",
            "message": "This route does not accept that HTTP method."
        }})),
    )
}
