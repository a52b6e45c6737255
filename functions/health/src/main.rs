//! Lambda: GET /api/health. Wiring only; the handler lives in `momentarium_shared::http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    momentarium_shared::lambda::serve_http(&[]).await
}
