//! Generations (a job of kind `generate` and its prompt), their results, and the record
//! of every AI call.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::{JobStage, JobStatus};

/// A generation to create with its job.
#[derive(Debug, Clone)]
pub struct NewGeneration<'a> {
    pub job_id: Uuid,
    pub user_id: Uuid,
    pub prompt: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub aspect_ratio: &'a str,
    /// Reference photos, an edit's source first.
    pub reference_ids: &'a [Uuid],
    pub source_image_id: Option<Uuid>,
    /// Where the result will be written.
    pub image_id: Uuid,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: &'a str,
}

/// Creates the pending job and its generation. Call inside a transaction.
pub async fn create(
    client: &impl GenericClient,
    g: &NewGeneration<'_>,
) -> Result<(), tokio_postgres::Error> {
    let job = client
        .prepare_cached(
            "INSERT INTO processing_jobs (id, user_id, kind, image_ids, idempotency_key, request_hash) \
             VALUES ($1, $2, 'generate', $3, $4, $5)",
        )
        .await?;
    client
        .execute(
            &job,
            &[
                &g.job_id,
                &g.user_id,
                &g.reference_ids,
                &g.idempotency_key,
                &g.request_hash,
            ],
        )
        .await?;
    let generation = client
        .prepare_cached(
            "INSERT INTO generations (job_id, user_id, prompt, provider, model, aspect_ratio, \
                 source_image_id, image_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    client
        .execute(
            &generation,
            &[
                &g.job_id,
                &g.user_id,
                &g.prompt,
                &g.provider,
                &g.model,
                &g.aspect_ratio,
                &g.source_image_id,
                &g.image_id,
            ],
        )
        .await?;
    Ok(())
}

/// A generation with its job's state, its result and what its calls cost.
#[derive(Debug, Clone)]
pub struct GenerationRow {
    pub job_id: Uuid,
    pub user_id: Uuid,
    pub prompt: String,
    pub provider: String,
    pub model: String,
    pub aspect_ratio: String,
    pub source_image_id: Option<Uuid>,
    pub image_id: Uuid,
    pub reference_ids: Vec<Uuid>,
    pub status: JobStatus,
    pub stage: Option<JobStage>,
    pub error: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The result image exists (written, and not deleted since).
    pub has_result: bool,
    pub calls: i32,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

const SELECT: &str = "SELECT g.job_id, g.user_id, g.prompt, g.provider, g.model, g.aspect_ratio, \
         g.source_image_id, g.image_id, j.image_ids, j.status, j.stage, j.error, j.attempts, \
         g.created_at, j.started_at, j.completed_at, \
         EXISTS (SELECT 1 FROM images i WHERE i.id = g.image_id AND i.status = 'uploaded') AS has_result, \
         c.calls, c.input_tokens, c.output_tokens, c.cost_usd \
     FROM generations g JOIN processing_jobs j ON j.id = g.job_id \
     CROSS JOIN LATERAL (SELECT count(*)::int AS calls, \
             coalesce(sum(input_tokens), 0)::bigint AS input_tokens, \
             coalesce(sum(output_tokens), 0)::bigint AS output_tokens, \
             coalesce(sum(cost_usd), 0)::float8 AS cost_usd \
         FROM ai_calls a WHERE a.job_id = g.job_id) c";

impl TryFrom<&Row> for GenerationRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        Ok(Self {
            job_id: row.try_get("job_id")?,
            user_id: row.try_get("user_id")?,
            prompt: row.try_get("prompt")?,
            provider: row.try_get("provider")?,
            model: row.try_get("model")?,
            aspect_ratio: row.try_get("aspect_ratio")?,
            source_image_id: row.try_get("source_image_id")?,
            image_id: row.try_get("image_id")?,
            reference_ids: row.try_get("image_ids")?,
            status: JobStatus::parse(row.try_get("status")?).unwrap_or(JobStatus::Failed),
            stage: row
                .try_get::<_, Option<&str>>("stage")?
                .and_then(JobStage::parse),
            error: row.try_get("error")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
            has_result: row.try_get("has_result")?,
            calls: row.try_get("calls")?,
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
            cost_usd: row.try_get("cost_usd")?,
        })
    }
}

/// One of the user's generations.
pub async fn find(
    client: &impl GenericClient,
    user_id: Uuid,
    job_id: Uuid,
) -> Result<Option<GenerationRow>, tokio_postgres::Error> {
    let sql = format!("{SELECT} WHERE g.job_id = $1 AND g.user_id = $2");
    super::fetch_opt(client, &sql, &[&job_id, &user_id]).await
}

/// The generation of a job, whoever's (for the worker that claimed it).
pub async fn for_job(
    client: &impl GenericClient,
    job_id: Uuid,
) -> Result<Option<GenerationRow>, tokio_postgres::Error> {
    let sql = format!("{SELECT} WHERE g.job_id = $1");
    super::fetch_opt(client, &sql, &[&job_id]).await
}

/// The user's generations, newest first, after the keyset cursor `(created_at, job_id)`.
pub async fn list(
    client: &impl GenericClient,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<GenerationRow>, tokio_postgres::Error> {
    let (at, id) = match after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let sql = format!(
        "{SELECT} WHERE g.user_id = $1 \
           AND ($2::timestamptz IS NULL OR (g.created_at, g.job_id) < ($2, $3)) \
         ORDER BY g.created_at DESC, g.job_id DESC LIMIT $4"
    );
    super::fetch_all(client, &sql, &[&user_id, &at, &id, &limit]).await
}

/// Writes the result's row ahead of its object, as not yet uploaded: an object stored
/// by a run that then crashes has a row, so the sweep finds and removes it. Idempotent.
pub async fn plan_result(
    client: &impl GenericClient,
    user_id: Uuid,
    image_id: Uuid,
    origin: &str,
    filename: &str,
    content_type: &str,
    size: i64,
) -> Result<(), tokio_postgres::Error> {
    let key = crate::domain::ImageKey::new(user_id, image_id).to_string();
    let stmt = client
        .prepare_cached(
            "INSERT INTO images (id, user_id, storage_key, original_filename, \
                 declared_content_type, declared_size, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET declared_content_type = EXCLUDED.declared_content_type, \
                 declared_size = EXCLUDED.declared_size, original_filename = EXCLUDED.original_filename \
             WHERE images.status = 'pending_upload'",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &image_id,
                &user_id,
                &key,
                &filename,
                &content_type,
                &size,
                &origin,
            ],
        )
        .await?;
    Ok(())
}

/// Results planned and never written whose generation has ended without them (failed,
/// cancelled) or is gone: at most `limit`, as `(user, image)`.
pub async fn abandoned_results(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT i.user_id, i.id FROM images i \
             LEFT JOIN generations g ON g.image_id = i.id \
             LEFT JOIN processing_jobs j ON j.id = g.job_id \
             WHERE i.origin <> 'upload' AND i.status = 'pending_upload' \
               AND (j.id IS NULL OR j.status IN ('failed', 'cancelled')) \
             ORDER BY i.created_at LIMIT $1",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&limit])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Generated and edited images older than `days` days: at most `limit`, oldest first.
pub async fn expired_made(
    client: &impl GenericClient,
    days: i32,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT user_id, id FROM images \
             WHERE origin <> 'upload' AND created_at < now() - make_interval(days => $1) \
             ORDER BY created_at LIMIT $2",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&days, &limit])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// One call to an AI provider, answered or not.
#[derive(Debug, Clone)]
pub struct AiCall<'a> {
    pub user_id: Uuid,
    pub job_id: Option<Uuid>,
    pub purpose: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub ok: bool,
    pub error: Option<&'a str>,
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub images: i32,
    pub cost_usd: f64,
}

pub async fn record_call(
    client: &impl GenericClient,
    c: &AiCall<'_>,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO ai_calls (user_id, job_id, purpose, provider, model, ok, error, \
                 input_tokens, output_tokens, images, cost_usd) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::float8::numeric(12, 6))",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &c.user_id,
                &c.job_id,
                &c.purpose,
                &c.provider,
                &c.model,
                &c.ok,
                &c.error,
                &c.input_tokens,
                &c.output_tokens,
                &c.images,
                &c.cost_usd,
            ],
        )
        .await?;
    Ok(())
}
