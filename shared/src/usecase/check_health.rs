//! The health use-case: is the database answering, within a bound?

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;

/// What `/api/health` reports about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseHealth {
    Ok { latency: Duration },
    Unreachable { reason: String },
    TimedOut { after: Duration },
}

impl DatabaseHealth {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }
}

/// Pings the database with `SELECT 1`, giving up after `bound`.
#[tracing::instrument(skip(pool))]
pub async fn check_database(pool: &Pool, bound: Duration) -> DatabaseHealth {
    let started = Instant::now();
    let ping = async {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    };
    let health = match tokio::time::timeout(bound, ping).await {
        Ok(Ok(())) => DatabaseHealth::Ok {
            latency: started.elapsed(),
        },
        Ok(Err(reason)) => DatabaseHealth::Unreachable { reason },
        Err(_) => DatabaseHealth::TimedOut { after: bound },
    };
    if !health.is_ok() {
        tracing::warn!(?health, "database health check failed");
    }
    health
}

/// The AI providers whose circuit breaker is open (jobs are organised offline meanwhile).
pub async fn open_circuits(pool: &Pool) -> Vec<String> {
    match pool.get().await {
        Ok(client) => crate::repo::circuits::not_closed(&client)
            .await
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}
