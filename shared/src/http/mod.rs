//! HTTP routes, shared by every Lambda binary and by the local server.
//!
//! Handlers translate: they extract and parse the request, call one use-case, and map the
//! result (or an [`ApiError`]) to a response.

mod account;
pub mod deliveries;
pub mod extract;
mod galleries;
mod generations;
mod health;
pub mod identity;
mod images;
mod jobs;
mod search;
mod shares;
mod uploads;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post};

use crate::error::ApiError;
use crate::usecase::limits::RateState;

/// What every handler can reach: built once at cold start, cloned per request (cheaply).
pub type AppState = crate::app::App;

/// The largest request body any route takes (a 50-file upload request is ~10 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The longest request target (path and query) any route takes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most headers, and header bytes, a request may carry (a JWT is ~1–2 KiB).
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

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

    fn patch<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::PATCH,
            path,
            handler: patch(handler),
        }
    }

    fn delete<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::DELETE,
            path,
            handler: delete(handler),
        }
    }
}

/// Every deployed route, one method each: `serve` and the tests build the router from
/// this list (and [`local_routes`]), and the contract test compares it with `openapi.yaml`.
pub fn routes() -> Vec<Route> {
    [
        health_routes(),
        upload_routes(),
        processing_routes(),
        gallery_routes(),
        image_routes(),
        job_routes(),
        delivery_routes(),
        share_routes(),
        shared_view_routes(),
        account_routes(),
        generation_routes(),
        search_routes(),
        web_routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

// One list per Lambda function (template.yaml routes these paths to it): a function's
// binary references only its own handlers, and so links only what they use.

/// The `health` function.
pub fn health_routes() -> Vec<Route> {
    vec![Route::get("/api/health", health::get_health)]
}

/// The `generate-upload-urls` function.
pub fn upload_routes() -> Vec<Route> {
    vec![Route::post(
        "/api/uploads/generate-urls",
        uploads::generate_upload_urls,
    )]
}

/// The `process-gallery` function: asking for work, cancelling it, trying it again.
pub fn processing_routes() -> Vec<Route> {
    vec![
        Route::post("/api/galleries/process", galleries::process_gallery),
        Route::post("/api/jobs/{job_id}/cancel", jobs::cancel),
        Route::post("/api/jobs/{job_id}/retry", jobs::retry),
    ]
}

/// The `get-gallery` function: reading galleries, and deleting one.
pub fn gallery_routes() -> Vec<Route> {
    vec![
        Route::get("/api/galleries", galleries::list_galleries),
        Route::get("/api/galleries/{gallery_id}", galleries::get_gallery),
        Route::delete("/api/galleries/{gallery_id}", galleries::delete_gallery),
    ]
}

/// The `get-image` function: one photo, its files, and deleting it.
pub fn image_routes() -> Vec<Route> {
    vec![
        Route::get("/api/images/{image_id}", images::get_image),
        Route::delete("/api/images/{image_id}", images::delete_image),
        Route::get("/api/images/{image_id}/content", images::get_image_content),
    ]
}

/// The `job-status` function.
pub fn job_routes() -> Vec<Route> {
    vec![
        Route::get("/api/jobs", jobs::list_jobs),
        Route::get("/api/jobs/{job_id}/status", jobs::job_status),
        Route::get("/api/jobs/{job_id}/events", jobs::job_events),
    ]
}

/// The `process-job` function (with SQS).
pub fn delivery_routes() -> Vec<Route> {
    vec![Route::post(
        "/api/jobs/process",
        deliveries::process_delivery,
    )]
}

/// The `shares` function: share links and album members, for their owner; albums shared
/// with the caller.
pub fn share_routes() -> Vec<Route> {
    vec![
        Route::post("/api/galleries/{gallery_id}/shares", shares::share_gallery),
        Route::post("/api/albums/{album_id}/shares", shares::share_album),
        Route::get("/api/shares", shares::list_shares),
        Route::delete("/api/shares/{share_id}", shares::revoke_share),
        Route::post("/api/albums/{album_id}/members", shares::add_member),
        Route::get("/api/albums/{album_id}/members", shares::list_members),
        Route::delete(
            "/api/albums/{album_id}/members/{subject}",
            shares::remove_member,
        ),
        Route::get("/api/shared-with-me", shares::shared_with_me),
        Route::get("/api/shared-with-me/{album_id}", shares::open_shared_album),
    ]
}

/// The `generations` function: pictures from a prompt, edits of the caller's photos,
/// and their history.
pub fn generation_routes() -> Vec<Route> {
    vec![
        Route::post("/api/generations", generations::create_generation),
        Route::get("/api/generations", generations::list_generations),
        Route::get(
            "/api/generations/{generation_id}",
            generations::get_generation,
        ),
        Route::post("/api/images/{image_id}/edits", generations::create_edit),
    ]
}

/// The `search` function: finding the caller's photos, and the searches made.
pub fn search_routes() -> Vec<Route> {
    vec![
        Route::get("/api/search", search::search),
        Route::get("/api/search/history", search::history),
        Route::delete("/api/search/history", search::forget_history),
    ]
}

/// The `account` function: the caller's account, its settings, its usage, and leaving.
pub fn account_routes() -> Vec<Route> {
    vec![
        Route::get("/api/me", account::get_me),
        Route::patch("/api/me", account::patch_me),
        Route::delete("/api/me", account::delete_me),
        Route::get("/api/usage", account::get_usage),
    ]
}

/// The `shared-view` function: what a share link shows, to anyone who has it.
pub fn shared_view_routes() -> Vec<Route> {
    vec![Route::get("/api/shared/{token}", shares::open_shared)]
}

/// The `web` function: the app's page (also a shared link's page) and its fingerprinted
/// assets (no token needed).
pub fn web_routes() -> Vec<Route> {
    vec![
        Route::get("/", web::index),
        Route::get("/s/{token}", web::index),
        Route::get("/assets/{file}", web::asset),
    ]
}

/// Routes only a local process serves, never deployed: the page's dev sign-in (a name
/// → a dev token, when dev tokens are on).
pub fn local_routes() -> Vec<Route> {
    vec![Route::post("/api/dev/sign-in", web::dev_sign_in)]
}

/// Every route Momentarium serves, for one process that serves them all (`serve`, the
/// tests): the deployed ones and the local ones.
pub fn router(state: AppState) -> Router {
    router_of(state, routes().into_iter().chain(local_routes()).collect())
}

/// A router for `routes`, with the limits, the error-shaped 404/405 and the state every
/// route shares.
pub fn router_of(state: AppState, routes: Vec<Route>) -> Router {
    routes
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(rate_headers))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(request_limits))
        .with_state(state)
}

/// Where the caller's extractor leaves the per-minute limit's state for
/// [`rate_headers`] to send.
#[derive(Clone, Default)]
pub struct RateSlot(std::sync::Arc<std::sync::Mutex<Option<RateState>>>);

impl RateSlot {
    pub fn put(&self, state: RateState) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(state);
        }
    }

    fn take(&self) -> Option<RateState> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Every answer to a signed-in caller says where they stand: `RateLimit-Policy` (the
/// route class's limit per 60 s) and `RateLimit` (what is left, and seconds to the reset),
/// as the IETF draft has them; a 429 carries them too, beside `Retry-After`.
async fn rate_headers(mut request: Request, next: Next) -> Response {
    let slot = RateSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(state) = slot.take() {
        let headers = response.headers_mut();
        if let (Ok(policy), Ok(current)) = (
            axum::http::HeaderValue::from_str(&state.policy()),
            axum::http::HeaderValue::from_str(&state.current()),
        ) {
            headers.insert("ratelimit-policy", policy);
            headers.insert("ratelimit", current);
        }
    }
    response
}

/// A request target or header block over the limits is answered in the error shape
/// (414, 431) before any route sees it. The local server's HTTP layer is configured
/// with higher limits than these, so these are the ones a client meets.
async fn request_limits(request: Request, next: Next) -> Result<Response, ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Err(ApiError::RequestTooLarge {
            status: StatusCode::URI_TOO_LONG,
            code: "uri_too_long",
            message: format!(
                "The request's path and query are {target} bytes; the limit is {MAX_URI_BYTES}."
            ),
        });
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return Err(ApiError::RequestTooLarge {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            code: "headers_too_large",
            message: format!(
                "The request carries {} headers in {header_bytes} bytes; the limits are \
                 {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes.",
                headers.len()
            ),
        });
    }
    Ok(next.run(request).await)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound { what: "route" }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
