//! Lambda: GET /api/shared/{token}, what a share link shows, to anyone who has the link
//! (and its password, when it has one). Wiring only; the handler lives in
//! `momentarium_shared::http`.

use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[Need::Storage]).await?.connect_storage().await;
    serve_http(app, http::shared_view_routes()).await
}
