use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::{JobKind, JobStage, JobStatus};

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: JobKind,
    /// The gallery an organising job fills (none for a generation).
    pub gallery_id: Option<Uuid>,
    pub status: JobStatus,
    pub image_ids: Vec<Uuid>,
    pub attempts: i32,
    pub error: Option<String>,
    pub request_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub organizer: Option<String>,
    pub fallback_reason: Option<String>,
    /// Where a job being processed is (`None` otherwise).
    pub stage: Option<JobStage>,
}

const COLUMNS: &str = "id, user_id, kind, gallery_id, status, image_ids, attempts, error, request_hash, \
                       created_at, started_at, completed_at, organizer, fallback_reason, stage";

impl TryFrom<&Row> for JobRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            kind: JobKind::parse(row.try_get::<_, &str>("kind")?).unwrap_or(JobKind::Organise),
            gallery_id: row.try_get("gallery_id")?,
            status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
            image_ids: row.try_get("image_ids")?,
            attempts: row.try_get("attempts")?,
            error: row.try_get("error")?,
            request_hash: row.try_get("request_hash")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
            organizer: row.try_get("organizer")?,
            fallback_reason: row.try_get("fallback_reason")?,
            stage: row
                .try_get::<_, Option<String>>("stage")?
                .as_deref()
                .and_then(JobStage::parse),
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
    let sql = format!("SELECT {COLUMNS} FROM processing_jobs WHERE id = $1 AND user_id = $2");
    super::fetch_opt(client, &sql, &[&id, &user_id]).await
}

/// The user's job made with this `Idempotency-Key`, if any.
pub async fn find_by_idempotency_key(
    client: &impl GenericClient,
    user_id: Uuid,
    key: &str,
) -> Result<Option<JobRow>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM processing_jobs WHERE user_id = $1 AND idempotency_key = $2"
    );
    super::fetch_opt(client, &sql, &[&user_id, &key]).await
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

/// What claiming a job found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// Ours now, with a lease; `attempts` already counts this one.
    Claimed(Box<JobRow>),
    /// Completed, failed or cancelled before: nothing to do.
    Finished(JobStatus),
    /// Another worker holds a live lease.
    Held,
    NotFound,
}

/// The user's jobs, newest first, after the keyset cursor `(created_at, id)`.
pub async fn list(
    client: &impl GenericClient,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<JobRow>, tokio_postgres::Error> {
    let (at, id) = match after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM processing_jobs WHERE user_id = $1 \
               AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .await?;
    client
        .query(&stmt, &[&user_id, &at, &id, &limit])
        .await?
        .iter()
        .map(JobRow::try_from)
        .collect()
}

/// Claims a job atomically: a pending job, or one whose lease ran out (its worker died).
pub async fn claim(
    client: &impl GenericClient,
    id: Uuid,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Claim, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE processing_jobs SET status = 'processing', stage = 'preparing', lease_owner = $2, \
                 lease_expires_at = now() + make_interval(secs => $3), attempts = attempts + 1, \
                 started_at = coalesce(started_at, now()), updated_at = now() \
             WHERE id = $1 AND (status = 'pending' OR (status = 'processing' AND lease_expires_at < now())) \
             RETURNING {COLUMNS}"
        ))
        .await?;
    if let Some(row) = client
        .query_opt(&stmt, &[&id, &owner, &lease.as_secs_f64()])
        .await?
    {
        return Ok(Claim::Claimed(Box::new(JobRow::try_from(&row)?)));
    }
    let stmt = client
        .prepare_cached("SELECT status FROM processing_jobs WHERE id = $1")
        .await?;
    Ok(match client.query_opt(&stmt, &[&id]).await? {
        None => Claim::NotFound,
        Some(row) => match JobStatus::parse(row.get(0)) {
            Some(JobStatus::Processing) => Claim::Held,
            Some(JobStatus::Pending) => Claim::Held,
            Some(done) => Claim::Finished(done),
            None => Claim::NotFound,
        },
    })
}

/// Gives a claimed job back (pending again) so the next delivery can run it at once.
pub async fn release(
    client: &impl GenericClient,
    id: Uuid,
    owner: &str,
    note: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'pending', stage = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL, error = $3, updated_at = now() \
             WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
        )
        .await?;
    Ok(client.execute(&stmt, &[&id, &owner, &note]).await? == 1)
}

/// Gives a claimed job back without counting this try (it was not run: its provider is
/// given a rest).
pub async fn release_uncounted(
    client: &impl GenericClient,
    id: Uuid,
    owner: &str,
    note: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'pending', stage = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL, error = $3, updated_at = now(), \
                 attempts = greatest(attempts - 1, 0) \
             WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
        )
        .await?;
    Ok(client.execute(&stmt, &[&id, &owner, &note]).await? == 1)
}

/// Gives back every claim whose owner starts with `instance` (one process's workers), as
/// not sent and with the interrupted attempt not counted: a process that is stopping
/// hands its jobs on instead of holding them until their leases lapse, and a person
/// pressing Ctrl-C never uses up a job's attempts. Returns how many.
pub async fn release_all_of(
    client: &impl GenericClient,
    instance: &str,
    note: &str,
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'pending', stage = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL, enqueued_at = NULL, error = $2, updated_at = now(), \
                 attempts = greatest(attempts - 1, 0) \
             WHERE status = 'processing' AND starts_with(lease_owner, $1 || '-')",
        )
        .await?;
    client.execute(&stmt, &[&instance, &note]).await
}

/// Whether a pending job is in no queue (never sent, or given back by a stopping process).
pub async fn unsent(client: &impl GenericClient, id: Uuid) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT 1 FROM processing_jobs WHERE id = $1 AND status = 'pending' \
             AND enqueued_at IS NULL",
        )
        .await?;
    Ok(client.query_opt(&stmt, &[&id]).await?.is_some())
}

/// Ends a claimed job as failed, with a sentence a person can act on.
pub async fn fail(
    client: &impl GenericClient,
    id: Uuid,
    owner: Option<&str>,
    error: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'failed', stage = NULL, error = $3, completed_at = now(), \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = now() \
             WHERE id = $1 AND status IN ('pending', 'processing') \
               AND ($2::text IS NULL OR lease_owner = $2)",
        )
        .await?;
    Ok(client.execute(&stmt, &[&id, &owner, &error]).await? == 1)
}

/// Moves a job `owner` holds to its next stage; false when the claim is gone.
pub async fn set_stage(
    client: &impl GenericClient,
    id: Uuid,
    owner: &str,
    stage: JobStage,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET stage = $3, updated_at = now() \
             WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
        )
        .await?;
    Ok(client
        .execute(&stmt, &[&id, &owner, &stage.as_str()])
        .await?
        == 1)
}

/// How the albums were made, recorded on the completed job.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    pub organizer: &'static str,
    pub model: Option<String>,
    pub fallback_reason: Option<String>,
    pub prompt_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub thoughts_tokens: Option<i32>,
    pub total_tokens: Option<i32>,
}

/// Locks the job row and reports whether `owner` still holds it. Call inside the
/// transaction that writes the result.
pub async fn still_held(
    client: &impl GenericClient,
    id: Uuid,
    owner: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT 1 FROM processing_jobs WHERE id = $1 AND lease_owner = $2 AND status = 'processing' FOR UPDATE",
        )
        .await?;
    Ok(client.query_opt(&stmt, &[&id, &owner]).await?.is_some())
}

/// Marks the job completed. Call inside the transaction that writes the albums.
pub async fn complete(
    client: &impl GenericClient,
    id: Uuid,
    c: &Completion,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'completed', stage = NULL, completed_at = now(), updated_at = now(), \
                 lease_owner = NULL, lease_expires_at = NULL, error = NULL, organizer = $2, model = $3, \
                 fallback_reason = $4, prompt_tokens = $5, output_tokens = $6, thoughts_tokens = $7, total_tokens = $8 \
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &id,
                &c.organizer,
                &c.model,
                &c.fallback_reason,
                &c.prompt_tokens,
                &c.output_tokens,
                &c.thoughts_tokens,
                &c.total_tokens,
            ],
        )
        .await?;
    Ok(())
}

/// Marks a generation job completed, with its provider's model and tokens. Call inside
/// the transaction that records its picture.
pub async fn complete_made(
    client: &impl GenericClient,
    id: Uuid,
    model: &str,
    input_tokens: i32,
    output_tokens: i32,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE processing_jobs SET status = 'completed', stage = NULL, completed_at = now(), updated_at = now(), \
                 lease_owner = NULL, lease_expires_at = NULL, error = NULL, model = $2, \
                 prompt_tokens = $3::integer, output_tokens = $4::integer, total_tokens = $3::integer + $4::integer \
             WHERE id = $1",
        )
        .await?;
    client
        .execute(&stmt, &[&id, &model, &input_tokens, &output_tokens])
        .await?;
    Ok(())
}

/// Jobs the sweep should look at: pending and not sent (or sent long ago and not picked
/// up), or processing with an expired lease.
pub async fn stranded(
    client: &impl GenericClient,
    older_than: std::time::Duration,
    limit: i64,
) -> Result<Vec<JobRow>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM processing_jobs \
         WHERE (status = 'pending' AND coalesce(enqueued_at, created_at) < now() - make_interval(secs => $1)) \
            OR (status = 'processing' AND lease_expires_at < now()) \
         ORDER BY updated_at LIMIT $2"
    );
    super::fetch_all(client, &sql, &[&older_than.as_secs_f64(), &limit]).await
}

/// Cancels one of the user's jobs if it has not ended, in one statement: a pending job
/// never runs, and a worker holding a processing one loses its claim (its next stage and
/// its result transaction find the claim gone and write nothing). `None` when the job is
/// not the user's; the flag says whether this call cancelled it.
pub async fn cancel(
    client: &impl GenericClient,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<(JobRow, bool)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE processing_jobs SET status = 'cancelled', stage = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL, completed_at = now(), updated_at = now(), \
                 error = 'Cancelled before it finished; nothing was written.' \
             WHERE id = $1 AND user_id = $2 AND status IN ('pending', 'processing') \
             RETURNING {COLUMNS}"
        ))
        .await?;
    if let Some(row) = client.query_opt(&stmt, &[&id, &user_id]).await? {
        return Ok(Some((JobRow::try_from(&row)?, true)));
    }
    Ok(find(client, user_id, id).await?.map(|job| (job, false)))
}
