//! Lambda: POST /api/uploads/generate-urls. Wiring only; the handler lives in `momentarium_shared::http`.

use momentarium_shared::config::Need;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    momentarium_shared::lambda::serve_http(&[Need::Storage]).await
}
