//! Repositories: all SQL lives here. Explicit column lists, `prepare_cached`, rows mapped
//! into typed structs. Every query about a user's things takes the user's id.

pub mod circuits;
pub mod deletions;
pub mod deliveries;
pub mod galleries;
pub mod generations;
pub mod images;
pub mod jobs;
pub mod limits;
pub mod search;
pub mod shares;
pub mod users;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// Runs a cached statement and maps the row it may return.
pub(crate) async fn fetch_opt<T>(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<T>, tokio_postgres::Error>
where
    T: for<'r> TryFrom<&'r Row, Error = tokio_postgres::Error>,
{
    let stmt = client.prepare_cached(sql).await?;
    client
        .query_opt(&stmt, params)
        .await?
        .as_ref()
        .map(T::try_from)
        .transpose()
}

/// Runs a cached statement and maps every row.
pub(crate) async fn fetch_all<T>(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<T>, tokio_postgres::Error>
where
    T: for<'r> TryFrom<&'r Row, Error = tokio_postgres::Error>,
{
    let stmt = client.prepare_cached(sql).await?;
    client
        .query(&stmt, params)
        .await?
        .iter()
        .map(T::try_from)
        .collect()
}
