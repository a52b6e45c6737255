use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::JobStatus;

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub gallery_id: Uuid,
    pub status: JobStatus,
    pub image_ids: Vec<Uuid>,
    pub attempts: i32,
    pub error: Option<String>,
    pub request_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, gallery_id, status, image_ids, attempts, error, request_hash, \
                       created_at, started_at, completed_at";

impl TryFrom<&Row> for JobRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            gallery_id: row.try_get("gallery_id")?,
            status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
            image_ids: row.try_get("image_ids")?,
            attempts: row.try_get("attempts")?,
            error: row.try_get("error")?,
            request_hash: row.try_get("request_hash")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub id: Uuid,
    pub gallery_id: Uuid,
    pub user_id: Uuid,
    pub image_ids: &'a [Uuid],
    pub idempotency_key: Option<&'a str>,
    pub request_hash: &'a str,
}

/// Creates the gallery and its pending job. Call inside a transaction.
pub async fn create_with_gallery(
    client: &impl GenericClient,
    job: &NewJob<'_>,
) -> Result<(), tokio_postgres::Error> {
    let gallery = client
        .prepare_cached("INSERT INTO galleries (id, user_id) VALUES ($1, $2)")
        .await?;
    client
        .execute(&gallery, &[&job.gallery_id, &job.user_id])
        .await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO processing_jobs (id, user_id, gallery_id, image_ids, idempotency_key, request_hash) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    client
        .execute(
            &insert,
            &[
                &job.id,
                &job.user_id,
                &job.gallery_id,
                &job.image_ids,
                &job.idempotency_key,
                &job.request_hash,
            ],
        )
        .await?;
    Ok(())
}

/// One of the user's jobs.
pub async fn find(
    client: &impl GenericClient,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<JobRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM processing_jobs WHERE id = $1 AND user_id = $2"
        ))
        .await?;
    client
        .query_opt(&stmt, &[&id, &user_id])
        .await?
        .as_ref()
        .map(JobRow::try_from)
        .transpose()
}

/// The user's job made with this `Idempotency-Key`, if any.
pub async fn find_by_idempotency_key(
    client: &impl GenericClient,
    user_id: Uuid,
    key: &str,
) -> Result<Option<JobRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM processing_jobs WHERE user_id = $1 AND idempotency_key = $2"
        ))
        .await?;
    client
        .query_opt(&stmt, &[&user_id, &key])
        .await?
        .as_ref()
        .map(JobRow::try_from)
        .transpose()
}

/// Notes that the job's message reached the queue.
pub async fn mark_enqueued(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET enqueued_at = now(), updated_at = now() WHERE id = $1",
        )
        .await?;
    client.execute(&stmt, &[&id]).await?;
    Ok(())
}
