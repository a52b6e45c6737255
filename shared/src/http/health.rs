use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;
use crate::health::{DatabaseHealth, check_database};

/// How long the database gets to answer a health ping.
const DATABASE_BOUND: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize)]
pub struct HealthBody {
    status: &'static str,
    database: &'static str,
    version: &'static str,
}

/// GET /api/health: 200 when the database answers within a second, 503 otherwise.
pub async fn get_health(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
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
        Json(HealthBody {
            status: overall,
            database,
            version: crate::VERSION,
        }),
    )
}
