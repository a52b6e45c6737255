//! Lambda: GET /api/search, GET /api/search/history and DELETE /api/search/history.
//! Wiring only; the handlers live in `momentarium_shared::http`. Storage signs the
//! results' URLs; the embedder (with GEMINI_API_KEY) turns a query into a vector. The
//! place tables are not loaded here: place names in a query are matched against the
//! caller's own photos and the country list.

use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[Need::Storage])
        .await?
        .connect_storage()
        .await
        .with_configured_embedder();
    serve_http(app, http::search_routes()).await
}
