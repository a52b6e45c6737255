//! Cancelling a job, and trying a failed or cancelled one again.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::{Caller, ImageStatus, JobKind, JobStatus};
use crate::error::ApiError;
use crate::repo::generations;
use crate::repo::images;
use crate::repo::jobs::{self, JobRow};
use crate::usecase::request_generation::{self, GenerationAsk};
use crate::usecase::request_processing::{self, JobAccepted};

/// Cancels one of the caller's jobs. A pending job is cancelled at once; a running one
/// is cancelled too, and its worker stops at its next step and writes nothing. A job that
/// has ended is a 409.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn cancel_job(app: &App, caller: &Caller, job_id: Uuid) -> Result<JobRow, ApiError> {
    let user_id = caller.user_id;
    let (job, cancelled) = db::with_client(&app.pool, |client| async move {
        jobs::cancel(&client, user_id, job_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "job" })?;
    if !cancelled {
        return Err(ApiError::conflict(
            "job_finished",
            format!(
                "This job has already ended ({}); there is nothing to cancel.",
                job.status.as_str()
            ),
        ));
    }
    tracing::info!(%job_id, "job cancelled");
    Ok(job)
}

/// Organises a failed or cancelled job's photos again, as a new job (with its own
/// gallery), leaving the old one as it ended. Photos deleted since are left out. Asking
/// twice for the same job answers the same new job.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn retry_job(app: &App, caller: &Caller, job_id: Uuid) -> Result<JobAccepted, ApiError> {
    let user_id = caller.user_id;
    let key = format!("retry:{job_id}");
    let key = key.as_str();
    let (job, earlier, remaining) = db::with_client(&app.pool, |client| async move {
        let Some(job) = jobs::find(&client, user_id, job_id).await? else {
            return Ok((None, None, Vec::new()));
        };
        // Asked before: that answer, whatever became of the photos since.
        if let Some(earlier) = jobs::find_by_idempotency_key(&client, user_id, key).await? {
            return Ok((Some(job), Some(earlier), Vec::new()));
        }
        let remaining = images::find_many(&client, user_id, &job.image_ids).await?;
        Ok((Some(job), None, remaining))
    })
    .await?;
    let job = job.ok_or(ApiError::NotFound { what: "job" })?;
    if let Some(earlier) = earlier {
        return Ok(JobAccepted::from(&earlier));
    }
    if !matches!(job.status, JobStatus::Failed | JobStatus::Cancelled) {
        return Err(ApiError::conflict(
            "not_retryable",
            format!(
                "Only a failed or cancelled job can be tried again; this one is {}.",
                job.status.as_str()
            ),
        ));
    }
    if job.kind == JobKind::Generate {
        return retry_generation(app, caller, &job, key).await;
    }
    let uploaded: std::collections::HashSet<Uuid> = remaining
        .iter()
        .filter(|i| i.status == ImageStatus::Uploaded)
        .map(|i| i.id)
        .collect();
    let ids: Vec<Uuid> = job
        .image_ids
        .iter()
        .filter(|id| uploaded.contains(id))
        .copied()
        .collect();
    if ids.is_empty() {
        return Err(ApiError::conflict(
            "no_photos_left",
            "None of this job's photos are still in your library; upload them again.",
        ));
    }
    let accepted = request_processing::request_processing(app, caller, &ids, Some(key)).await?;
    tracing::info!(%job_id, new_job_id = %accepted.job_id, photos = ids.len(), "job retried");
    Ok(accepted)
}

/// A generation asked for again: the same prompt, provider, ratio and references.
async fn retry_generation(
    app: &App,
    caller: &Caller,
    job: &JobRow,
    key: &str,
) -> Result<JobAccepted, ApiError> {
    let (user_id, job_id) = (caller.user_id, job.id);
    let generation = db::with_client(&app.pool, |client| async move {
        generations::find(&client, user_id, job_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "job" })?;
    let source = generation.source_image_id;
    let ask = GenerationAsk {
        prompt: generation.prompt,
        reference_ids: generation
            .reference_ids
            .into_iter()
            .filter(|id| Some(*id) != source)
            .collect(),
        aspect_ratio: Some(generation.aspect_ratio),
        provider: Some(generation.provider),
    };
    let accepted = request_generation::request_generation(app, caller, ask, source, Some(key))
        .await
        .map_err(|e| match e {
            ApiError::NotFoundMany { ids, .. } => ApiError::Conflict {
                code: "no_photos_left",
                message: format!(
                    "{} photo(s) this generation drew on are no longer in your library; ask for a new one without them.",
                    ids.len()
                ),
            },
            other => other,
        })?;
    tracing::info!(%job_id, new_job_id = %accepted.job_id, "generation retried");
    Ok(accepted)
}
