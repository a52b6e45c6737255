//! Asking for a batch to be organised: checks, the job, and the queue message.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::adapter::queue::{JobMessage, Priority};
use crate::app::App;
use crate::domain::Caller;
use crate::domain::limits::Tier;
use crate::domain::{ImageStatus, JobKind, JobStatus};
use crate::error::ApiError;
use crate::repo::images::{self, ImageRow};
use crate::repo::jobs::{self, JobRow, NewJob};
use crate::usecase::limits::{self, Quota};
use crate::usecase::record_upload::{Renditions, UploadOutcome, record_upload};

/// The job a process request made (or, for a repeated `Idempotency-Key`, made before).
#[derive(Debug, Clone)]
pub struct JobAccepted {
    pub job_id: Uuid,
    pub kind: JobKind,
    pub gallery_id: Option<Uuid>,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    /// True when this request made the job; false when an earlier one did.
    pub created: bool,
}

impl From<JobAccepted> for crate::contract::ProcessAccepted {
    fn from(accepted: JobAccepted) -> Self {
        Self {
            job_id: accepted.job_id,
            kind: accepted.kind,
            gallery_id: accepted.gallery_id,
            status: accepted.status,
            status_url: match accepted.kind {
                JobKind::Organise => format!("/api/jobs/{}/status", accepted.job_id),
                JobKind::Generate => format!("/api/generations/{}", accepted.job_id),
            },
        }
    }
}

impl From<&JobRow> for JobAccepted {
    fn from(job: &JobRow) -> Self {
        Self {
            job_id: job.id,
            kind: job.kind,
            gallery_id: job.gallery_id,
            status: job.status,
            created_at: job.created_at,
            created: false,
        }
    }
}

/// Parses an `Idempotency-Key` header value: 1–255 visible ASCII characters.
pub fn parse_idempotency_key(raw: &str) -> Result<String, ApiError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
        ));
    }
    Ok(key.to_string())
}

fn request_hash(image_ids: &[Uuid]) -> String {
    let mut hasher = Sha256::new();
    for id in image_ids {
        hasher.update(id.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn same_request(job: &JobRow, hash: &str) -> Result<JobAccepted, ApiError> {
    if job.request_hash.as_deref() == Some(hash) {
        Ok(JobAccepted::from(job))
    } else {
        Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different set of photos.",
        ))
    }
}

/// Checks the batch, creates the gallery and its pending job in one transaction, and sends
/// the job to the queue. A send that fails leaves the job pending with no `enqueued_at`;
/// the sweep re-sends such jobs, so the request still succeeds.
#[tracing::instrument(skip(app, image_ids), fields(user_id = %caller.user_id, image_count = image_ids.len()))]
pub async fn request_processing(
    app: &App,
    caller: &Caller,
    image_ids: &[Uuid],
    idempotency_key: Option<&str>,
) -> Result<JobAccepted, ApiError> {
    let max = app.config.limits.max_batch;
    if image_ids.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_batch",
            "Send at least one image id.",
        ));
    }
    if image_ids.len() > max {
        return Err(ApiError::Unprocessable {
            code: "batch_too_large",
            message: format!(
                "A batch holds at most {max} photos; this one has {}.",
                image_ids.len()
            ),
            details: Some(json!({"maxFiles": max, "files": image_ids.len()})),
        });
    }
    let mut seen = HashSet::new();
    let duplicates: Vec<Uuid> = image_ids
        .iter()
        .filter(|id| !seen.insert(**id))
        .copied()
        .collect();
    if !duplicates.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "duplicate_image_ids",
            message: "Each photo may appear only once in a batch.".into(),
            details: Some(json!({"imageIds": duplicates})),
        });
    }
    let hash = request_hash(image_ids);
    let user_id = caller.user_id;

    if let Some(key) = idempotency_key {
        let existing = db::with_client(&app.pool, |client| async move {
            jobs::find_by_idempotency_key(&client, user_id, key).await
        })
        .await?;
        if let Some(job) = existing {
            let accepted = same_request(&job, &hash)?;
            // A job given back unsent (its process stopped) goes to the queue again now,
            // rather than when the sweep comes by.
            let job_id = job.id;
            let unsent = db::with_client(&app.pool, |client| async move {
                jobs::unsent(&client, job_id).await
            })
            .await?;
            if unsent {
                enqueue(app, job_id, JobKind::Organise, user_id).await;
            }
            return Ok(accepted);
        }
    }

    uploaded_photos(app, user_id, image_ids).await?;

    let job = NewJob {
        id: Uuid::now_v7(),
        gallery_id: Uuid::now_v7(),
        user_id,
        image_ids,
        idempotency_key,
        request_hash: &hash,
    };
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let tx = client.transaction().await.map_err(DbError::from)?;
    // The day's quota is taken in the job's transaction: no job, nothing taken.
    let photos = i64::try_from(image_ids.len()).unwrap_or(i64::MAX);
    limits::take_quota(app, &tx, user_id, Quota::PhotosOrganised, photos).await?;
    let created = async {
        jobs::create_with_gallery(&tx, &job).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = created {
        // Two requests with the same key at once: the loser returns the winner's job.
        let err = DbError::from(e);
        if err.constraint() == Some("processing_jobs_idempotency_key")
            && let Some(key) = idempotency_key
            && let Some(existing) = jobs::find_by_idempotency_key(&client, user_id, key)
                .await
                .map_err(DbError::from)?
        {
            return same_request(&existing, &hash);
        }
        return Err(err.into());
    }
    drop(client);
    tracing::info!(job_id = %job.id, gallery_id = %job.gallery_id, "job created");

    enqueue(app, job.id, JobKind::Organise, user_id).await;
    Ok(JobAccepted {
        job_id: job.id,
        kind: JobKind::Organise,
        gallery_id: Some(job.gallery_id),
        status: JobStatus::Pending,
        created_at: Utc::now(),
        created: true,
    })
}

/// The caller's photos among `ids` (no duplicates), every one uploaded — an upload whose
/// S3 event has not come yet is inspected now. Ids that are not the caller's are a 404
/// naming them (unknown and other users' ids look the same); rejected photos a 422 with
/// their reasons; photos not yet uploaded a 409.
pub(crate) async fn uploaded_photos(
    app: &App,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<ImageRow>, ApiError> {
    let found = db::with_client(&app.pool, |client| {
        let ids = ids.to_vec();
        async move { images::find_many(&client, user_id, &ids).await }
    })
    .await?;
    if found.len() != ids.len() {
        let known: HashSet<Uuid> = found.iter().map(|i| i.id).collect();
        let missing: Vec<Uuid> = ids
            .iter()
            .filter(|id| !known.contains(id))
            .copied()
            .collect();
        return Err(ApiError::NotFoundMany {
            what: "image",
            ids: missing,
        });
    }
    settle_pending_uploads(app, &found).await?;
    Ok(found)
}

/// Sends the job to the queue and notes it. Failures are logged, not returned: the job is
/// safely pending and the sweep will send it.
pub async fn enqueue(app: &App, job_id: Uuid, kind: JobKind, user_id: Uuid) {
    let Some(queue) = app.queue() else {
        tracing::warn!(%job_id, "no job queue configured; the job waits for the sweep");
        return;
    };
    // Premium users' jobs go ahead of free users'. Not knowing sends it in the usual line.
    let priority = match db::with_client(&app.pool, |client| async move {
        crate::repo::limits::tier(&client, user_id).await
    })
    .await
    {
        Ok((Tier::Premium, _)) => Priority::High,
        Ok(_) => Priority::Normal,
        Err(e) => {
            tracing::warn!(%job_id, error = %e, "tier unknown; the job goes in the usual line");
            Priority::Normal
        }
    };
    match queue
        .enqueue(&JobMessage::for_job(kind, job_id), priority)
        .await
    {
        Ok(()) => {
            if let Err(e) = db::with_client(&app.pool, |client| async move {
                jobs::mark_enqueued(&client, job_id).await
            })
            .await
            {
                tracing::warn!(%job_id, error = ?e, "job sent but enqueued_at not recorded");
            }
        }
        Err(e) => {
            tracing::error!(%job_id, error = ?e, "sending the job to the queue failed; the sweep will retry")
        }
    }
}

/// A photo's id, its status, and why it was rejected if it was.
type Settled = Result<(Uuid, ImageStatus, Option<String>), ApiError>;

/// One photo's status, inspecting it now if its upload was never recorded.
async fn settle_one(app: &App, image: &ImageRow) -> Settled {
    if image.status != ImageStatus::PendingUpload {
        return Ok((image.id, image.status, image.rejection_reason.clone()));
    }
    let outcome = record_upload(app, &image.key().to_string(), None, Renditions::Later)
        .await
        .map_err(|e| match e {
            crate::usecase::record_upload::RecordError::Database(db) => ApiError::from(db),
            crate::usecase::record_upload::RecordError::Storage(storage) => {
                tracing::warn!(error = %storage, "could not inspect an upload now");
                ApiError::Unavailable {
                    code: "storage_unavailable",
                    message: "The photo store did not answer; ask again in a moment.".into(),
                    retry_after_secs: Some(5),
                }
            }
        })?;
    Ok(match outcome {
        UploadOutcome::Uploaded => (image.id, ImageStatus::Uploaded, None),
        UploadOutcome::Rejected(reason) => (image.id, ImageStatus::Rejected, Some(reason)),
        UploadOutcome::AlreadyRecorded(s) => (image.id, s, None),
        UploadOutcome::ObjectMissing | UploadOutcome::UnknownKey => {
            (image.id, ImageStatus::PendingUpload, None)
        }
    })
}

/// How many pending uploads are inspected at once when a process request finds them.
const SETTLE_CONCURRENCY: usize = 8;

/// Images still `pending_upload` may have arrived before their S3 event: look now (a few
/// at a time). Rejected photos are named, with their reasons, so a client can leave them
/// out and ask again.
async fn settle_pending_uploads(app: &App, images: &[ImageRow]) -> Result<(), ApiError> {
    use futures::StreamExt;
    let pending: Vec<_> = images.iter().map(|image| settle_one(app, image)).collect();
    let settled: Vec<Settled> = futures::stream::iter(pending)
        .buffered(SETTLE_CONCURRENCY)
        .collect()
        .await;
    let mut not_ready = Vec::new();
    let mut rejected = Vec::new();
    for result in settled {
        let (id, status, reason) = result?;
        match status {
            ImageStatus::Uploaded => {}
            ImageStatus::PendingUpload => not_ready.push(id),
            ImageStatus::Rejected => rejected.push((id, reason)),
        }
    }
    if !rejected.is_empty() {
        let ids: Vec<Uuid> = rejected.iter().map(|(id, _)| *id).collect();
        let reasons: Vec<serde_json::Value> = rejected
            .iter()
            .map(|(id, reason)| json!({"imageId": id, "reason": reason}))
            .collect();
        return Err(ApiError::Unprocessable {
            code: "images_rejected",
            message: format!(
                "{} photo(s) were rejected when they were uploaded; leave them out and ask again.",
                ids.len()
            ),
            details: Some(json!({"imageIds": ids, "rejected": reasons})),
        });
    }
    if !not_ready.is_empty() {
        return Err(ApiError::Conflict {
            code: "upload_incomplete",
            message: format!(
                "{} photo(s) have not finished uploading; upload them, then ask again.",
                not_ready.len()
            ),
        });
    }
    Ok(())
}
