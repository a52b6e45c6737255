//! Signed deliveries that reached a final answer, kept briefly so a replay does nothing.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

/// What a delivery id was answered with, if it was handled before.
pub async fn find(
    client: &impl GenericClient,
    delivery_id: &str,
) -> Result<Option<(Uuid, String)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT job_id, status FROM handled_deliveries WHERE delivery_id = $1")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&delivery_id])
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

/// Records a delivery's final answer (the first one wins).
pub async fn record(
    client: &impl GenericClient,
    delivery_id: &str,
    job_id: Uuid,
    status: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO handled_deliveries (delivery_id, job_id, status) VALUES ($1, $2, $3) \
             ON CONFLICT (delivery_id) DO NOTHING",
        )
        .await?;
    client
        .execute(&stmt, &[&delivery_id, &job_id, &status])
        .await?;
    Ok(())
}

/// Forgets deliveries handled longer than `older_than` ago; returns how many.
pub async fn forget_older_than(
    client: &impl GenericClient,
    older_than: std::time::Duration,
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "DELETE FROM handled_deliveries \
             WHERE handled_at < now() - make_interval(secs => $1)",
        )
        .await?;
    client.execute(&stmt, &[&(older_than.as_secs_f64())]).await
}
