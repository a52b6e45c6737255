//! Lambda: POST /api/galleries/process, POST /api/jobs/{jobId}/cancel and POST /api/jobs/{jobId}/retry. Wiring only; the handlers live in `momentarium_shared::http`.

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
        .await
        // A generation's retry is checked as a new request is.
        .with_configured_generators();
    serve_http(app, http::processing_routes()).await
}
