//! The PostgreSQL pool and the migration runner.
//!
//! One small pool per process (a Lambda environment handles one request at a time, so two
//! connections are plenty; RDS Proxy multiplexes beyond that). Connections are made lazily,
//! on first use, and a query that fails because its connection was dropped is retried once
//! on a fresh connection.

use std::future::Future;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use crate::config::DatabaseConfig;
use crate::error::ApiError;

pub use deadpool_postgres::Pool as DbPool;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// A key for `pg_advisory_lock` so that concurrent cold starts migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x6d6f_6d65_6e74; // "moment"

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not get a database connection")]
    Pool(#[from] PoolError),
    #[error("database query failed")]
    Query(#[from] tokio_postgres::Error),
}

impl DbError {
    /// True when the database could not be reached (as opposed to a bad query).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Query(e) => e.is_closed() || e.code().is_none() && e.as_db_error().is_none(),
        }
    }

    /// The name of the violated constraint, if this is a constraint violation.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Query(e) => e.as_db_error().and_then(|d| d.constraint()),
            Self::Pool(_) => None,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        let busy = matches!(&err, DbError::Query(e) if e.code().is_some_and(|c| {
            *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                || *c == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
        }));
        if busy {
            // Two writers met on the same rows and PostgreSQL undid one: nothing was
            // written, and the same request again will go through.
            tracing::warn!(error = ?err, "a transaction was undone by a conflict");
            return ApiError::Unavailable {
                code: "database_busy",
                message: "Another change to the same things got in the way; please try again."
                    .into(),
                retry_after_secs: Some(1),
            };
        }
        if err.is_unavailable() {
            tracing::warn!(error = ?err, "database unavailable");
            ApiError::Unavailable {
                code: "database_unavailable",
                message: "The database is not answering right now. Please try again shortly."
                    .into(),
                retry_after_secs: Some(2),
            }
        } else {
            ApiError::internal(err)
        }
    }
}

/// Builds the pool. Nothing connects until the first query.
pub fn create_pool(config: &DatabaseConfig) -> anyhow::Result<Pool> {
    let mut pg = config.pg_config();
    pg.connect_timeout(config.connect_timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("momentarium");
    }
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if pg.get_ssl_mode() == SslMode::Disable {
        Manager::from_config(pg, NoTls, manager_config)
    } else {
        let tls = crate::adapter::postgres_tls::connector(config.ca_file.as_deref())?;
        Manager::from_config(pg, tls, manager_config)
    };
    let pool = Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        // Bound every stage, so a server that accepts TCP but never answers cannot hang us.
        .create_timeout(Some(config.connect_timeout))
        .wait_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .build()?;
    Ok(pool)
}

/// Runs `op` on a pooled connection; if the connection turns out to have been dropped
/// (server restart, idle timeout, failover), retries once on a fresh one.
pub async fn with_client<T, F, Fut>(pool: &Pool, op: F) -> Result<T, DbError>
where
    F: Fn(Object) -> Fut,
    Fut: Future<Output = Result<T, tokio_postgres::Error>>,
{
    let client = pool.get().await?;
    match op(client).await {
        Err(e) if e.is_closed() => {
            tracing::warn!(error = %e, "database connection was dropped; retrying once");
            let client = pool.get().await?;
            Ok(op(client).await?)
        }
        other => Ok(other?),
    }
}

/// What the migration runner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    /// Whether the server has pgvector (semantic search); without it search uses keywords.
    pub vectors: bool,
}

/// Applies every pending migration under an advisory lock. Running it again is a no-op.
pub async fn migrate(pool: &Pool) -> anyhow::Result<MigrationReport> {
    let mut client = pool.get().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = embedded::migrations::runner()
        .run_async(&mut **client)
        .await;
    // A server that gained pgvector after V12 gets its table now (see V12).
    let vectors = match &result {
        Ok(_) => client
            .query_one("SELECT ensure_vector_store()", &[])
            .await
            .and_then(|row| row.try_get::<_, bool>(0)),
        Err(_) => Ok(false),
    };
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let report = result?;
    let applied: Vec<String> = report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect();
    let vectors = vectors?;
    // Not a warning: Debian's PostgreSQL, which most local runs use, has no pgvector,
    // and keyword search is what it should do there. `serve` says so at start.
    tracing::info!(
        applied = applied.len(),
        vectors,
        "database migrations checked"
    );
    Ok(MigrationReport { applied, vectors })
}

/// The names of the migrations embedded in this build, in order.
pub fn embedded_migrations() -> Vec<String> {
    let runner = embedded::migrations::runner();
    let mut migrations: Vec<_> = runner.get_migrations().iter().collect();
    // By version: V10 after V9, not after V1.
    migrations.sort_by_key(|m| m.version());
    migrations.iter().map(|m| m.to_string()).collect()
}
