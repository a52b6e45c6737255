//! Lambda: GET and PATCH /api/me (display name, language) and DELETE /api/me (the
//! caller's account and everything of it). Wiring only; the
//! handler lives in `momentarium_shared::http`.

use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[Need::Storage]).await?.connect_storage().await;
    serve_http(app, http::account_routes()).await
}
