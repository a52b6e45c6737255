//! Lambda: GET / and GET /assets/{file}, the web app's page and its fingerprinted assets,
//! embedded in the binary. Wiring only; the handlers live in `momentarium_shared::http`.

use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, serve_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = cold_start(&[]).await?;
    serve_http(app, http::web_routes()).await
}
