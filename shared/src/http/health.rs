use std::time::Duration;

use crate::contract::Health;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::usecase::check_health::{DatabaseHealth, check_database};

/// How long the database gets to answer a health ping.
const DATABASE_BOUND: Duration = Duration::from_secs(1);

/// GET /api/health: 200 when the database answers within a second, 503 otherwise.
pub async fn get_health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = check_database(&state.pool, DATABASE_BOUND).await;
    let (status, database) = match db {
        DatabaseHealth::Ok { .. } => (StatusCode::OK, "ok"),
        DatabaseHealth::Unreachable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unreachable"),
        DatabaseHealth::TimedOut { .. } => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
    };
    let overall = if status == StatusCode::OK {
        "ok"
    } else {
        "degraded"
    };
    (
        status,
        Json(Health {
            status: overall.into(),
            database: database.into(),
            version: crate::VERSION.into(),
        }),
    )
}
