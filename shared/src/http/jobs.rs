//! `/api/jobs/{jobId}/status`: where a job stands.

use axum::Json;
use axum::extract::{Path, State};

use super::extract::parse_id;
use crate::app::App;
use crate::contract::JobStatusBody;
use crate::domain::Caller;
use crate::domain::JobStatus;
use crate::error::ApiError;
use crate::usecase::read_job_status;

/// GET /api/jobs/{jobId}/status
pub async fn job_status(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobStatusBody>, ApiError> {
    let job = read_job_status::job_status(&app, &caller, parse_id(&job_id, "job")?).await?;
    Ok(Json(JobStatusBody {
        job_id: job.id,
        status: job.status,
        gallery_id: job.gallery_id,
        image_count: job.image_ids.len(),
        attempts: job.attempts,
        created_at: job.created_at,
        started_at: job.started_at,
        completed_at: job.completed_at,
        error: job.error,
        result_url: (job.status == JobStatus::Completed)
            .then(|| format!("/api/galleries/{}", job.gallery_id)),
        organizer: job.organizer,
        fallback_reason: job.fallback_reason,
    }))
}
