use std::time::Duration;

use crate::contract::Health;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::usecase::check_health::{DatabaseHealth, check_database, open_circuits};

/// How long the database gets to answer a health ping.
const DATABASE_BOUND: Duration = Duration::from_secs(1);

/// GET /api/health: 200 when the database answers within a second, 503 otherwise. With
/// the database up but a model's circuit breaker open, 200 and `degraded`: albums are
/// still made, by the offline organiser.
pub async fn get_health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = check_database(&state.pool, DATABASE_BOUND).await;
    let (status, database) = match db {
        DatabaseHealth::Ok { .. } => (StatusCode::OK, "ok"),
        DatabaseHealth::Unreachable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unreachable"),
        DatabaseHealth::TimedOut { .. } => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
    };
    let open = match status {
        StatusCode::OK => open_circuits(&state.pool).await,
        _ => Vec::new(),
    };
    let model = match (status == StatusCode::OK, open.is_empty()) {
        (false, _) => "unknown",
        (true, true) => "ok",
        (true, false) => "circuit_open",
    };
    let overall = if status == StatusCode::OK && open.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    (
        status,
        Json(Health {
            status: overall.into(),
            database: database.into(),
            model: model.into(),
            version: crate::VERSION.into(),
        }),
    )
}
