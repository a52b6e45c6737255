//! Lambda: POST /api/generations, GET /api/generations, GET /api/generations/{id} and
//! POST /api/images/{imageId}/edits. Wiring only; the handlers live in
//! `momentarium_shared::http`. The providers are attached so that a request for one
//! without a key is answered 503 at once; the work runs in process-job.

use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[Need::Storage, Need::Queue, Need::WebhookSecret])
        .await?
        // Reference photos whose upload event has not come yet are inspected at once.
        .connect_storage()
        .await
        .connect_queue()
        .await
        .with_configured_generators();
    serve_http(app, http::generation_routes()).await
}
