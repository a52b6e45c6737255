//! Lambda: GET /api/jobs/{jobId}/status. Wiring only; the handler lives in `momentarium_shared::http`.

use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[]).await?;
    serve_http(app, http::job_routes()).await
}
