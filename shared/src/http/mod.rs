//! HTTP routes, shared by every Lambda binary and by the local server.
//!
//! Handlers translate: they extract and parse the request, call one use-case, and map the
//! result (or an [`ApiError`]) to a response.

mod api;
mod health;
pub mod json;
pub mod webhook;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::error::ApiError;

/// What every handler can reach: built once at cold start, cloned per request (cheaply).
pub type AppState = crate::app::App;

/// The largest request body any route takes (a 50-file upload request is ~10 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route Momentarium serves. A Lambda binary serves this router too: API Gateway
/// sends it only its own route, so one router per process costs nothing and keeps one
/// code path.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health::get_health))
        .route(
            "/api/uploads/generate-urls",
            post(api::generate_upload_urls),
        )
        .route("/api/galleries/process", post(api::process_gallery))
        .route("/api/galleries", get(api::list_galleries))
        .route("/api/galleries/{gallery_id}", get(api::get_gallery))
        .route("/api/jobs/{job_id}/status", get(api::job_status))
        .route("/api/jobs/process", post(webhook::process_delivery))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound { what: "route" }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
