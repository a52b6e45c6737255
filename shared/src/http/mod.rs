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
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

use crate::error::ApiError;

/// What every handler can reach: built once at cold start, cloned per request (cheaply).
pub type AppState = crate::app::App;

/// The largest request body any route takes (a 50-file upload request is ~10 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// One route: its method and path (axum's syntax), and the handler that serves it.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn get<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::GET,
            path,
            handler: get(handler),
        }
    }

    fn post<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::POST,
            path,
            handler: post(handler),
        }
    }
}

/// Every route Momentarium serves, one method each: the router is built from this list,
/// and the contract test compares it with `openapi.yaml`.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/health", health::get_health),
        Route::post("/api/uploads/generate-urls", api::generate_upload_urls),
        Route::post("/api/galleries/process", api::process_gallery),
        Route::get("/api/galleries", api::list_galleries),
        Route::get("/api/galleries/{gallery_id}", api::get_gallery),
        Route::get("/api/jobs/{job_id}/status", api::job_status),
        Route::post("/api/jobs/process", webhook::process_delivery),
    ]
}

/// Every route Momentarium serves. A Lambda binary serves this router too: API Gateway
/// sends it only its own route, so one router per process costs nothing and keeps one
/// code path.
pub fn router(state: AppState) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
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
