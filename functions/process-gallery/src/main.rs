//! Lambda: POST /api/galleries/process. Wiring only; the handler lives in `momentarium_shared::http`.

use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[Need::Storage, Need::Queue, Need::WebhookSecret])
        .await?
        .connect_storage()
        .await
        .connect_queue()
        .await;
    serve_http(app, http::processing_routes()).await
}
