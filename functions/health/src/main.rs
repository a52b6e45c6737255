//! Lambda: GET /api/health. Wiring only.

use momentarium_shared::{Config, db, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.telemetry);
    let pool = db::create_pool(&config.database)?;
    let app = http::router(http::AppState::new(config, pool));
    lambda_http::run(app).await
}
