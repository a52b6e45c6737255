//! Running one signed delivery of a job (a webhook POST or an SQS message), once: a
//! delivery whose id already reached a final answer is answered from that record without
//! touching the job. Retries of a delivery that was told to come back later (503, a
//! lease held elsewhere) carry the same id and do run, since only final answers are kept.

use uuid::Uuid;

use crate::app::App;
use crate::db;
use crate::domain::JobStatus;
use crate::repo::deliveries;
use crate::usecase::process_job::{Delivery, ProcessOutcome, RetryLater, process_job};

/// How long a handled delivery id is remembered: comfortably longer than the signature's
/// freshness window (5 minutes), after which a replay is refused as stale anyway.
pub const REMEMBER_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

/// What a delivery led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The job ran now (or had finished before this delivery).
    Ran(ProcessOutcome),
    /// This delivery id was handled before and answered `status`; nothing ran.
    Replayed { status: String },
}

/// Runs the job a delivery names, unless this delivery id was already answered for good.
#[tracing::instrument(skip(app, delivery), fields(job_id = %job_id))]
pub async fn run_delivery(
    app: &App,
    delivery_id: Option<&str>,
    job_id: Uuid,
    delivery: Delivery,
) -> Result<DeliveryOutcome, RetryLater> {
    let db_trouble = |e: db::DbError| RetryLater {
        reason: format!("database: {e}"),
        retry_after: None,
    };
    let delivery_id = delivery_id.filter(|id| !id.is_empty() && id.len() <= 255);
    if let Some(id) = delivery_id {
        let seen = db::with_client(&app.pool, |client| async move {
            deliveries::find(&client, id).await
        })
        .await
        .map_err(db_trouble)?;
        if let Some((seen_job, status)) = seen
            && seen_job == job_id
        {
            tracing::info!(delivery_id = id, %status, "a replayed delivery; nothing to do");
            return Ok(DeliveryOutcome::Replayed { status });
        }
    }
    let outcome = process_job(app, job_id, delivery).await?;
    let final_status = match &outcome {
        ProcessOutcome::Completed { .. } => Some(JobStatus::Completed),
        ProcessOutcome::Failed(_) => Some(JobStatus::Failed),
        ProcessOutcome::AlreadyFinished(status) => Some(*status),
        ProcessOutcome::HeldElsewhere | ProcessOutcome::NotFound => None,
    };
    if let (Some(id), Some(status)) = (delivery_id, final_status) {
        let status = status.as_str().to_string();
        // Best effort: without the record a replay merely finds the job finished.
        if let Err(e) = db::with_client(&app.pool, |client| {
            let status = status.clone();
            async move { deliveries::record(&client, id, job_id, &status).await }
        })
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not record a handled delivery");
        }
    }
    Ok(DeliveryOutcome::Ran(outcome))
}
