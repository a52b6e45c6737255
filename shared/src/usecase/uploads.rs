//! Upload URLs, and recording what arrived.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::App;
use crate::db::{self, DbError};
use crate::domain::{ContentType, Filename, ImageKey, ImageStatus};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::inspect::{self, HEAD_BYTES, Rejection};
use crate::repo::images::{self, NewImage};
use crate::storage::{ObjectHead, S3Store, StorageError};

/// One file the client intends to upload, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// A file that passed validation.
#[derive(Debug, Clone)]
struct ValidFile {
    filename: Filename,
    content_type: ContentType,
    size: u64,
}

/// What the client needs to upload one file.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub image_id: Uuid,
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub content_length: u64,
    pub tagging: String,
    pub if_none_match: &'static str,
    pub expires_at: DateTime<Utc>,
}

fn validate(app: &App, files: &[FileRequest]) -> Result<Vec<ValidFile>, ApiError> {
    let limits = &app.config.limits;
    if files.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_batch",
            "Send at least one file.",
        ));
    }
    if files.len() > limits.max_batch {
        return Err(ApiError::Unprocessable {
            code: "batch_too_large",
            message: format!(
                "A batch holds at most {} files; this one has {}. Split it into smaller batches.",
                limits.max_batch,
                files.len()
            ),
            details: Some(json!({"maxFiles": limits.max_batch, "files": files.len()})),
        });
    }
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let filename =
                Filename::parse(&file.filename).map_err(|e| ApiError::Unprocessable {
                    code: "invalid_filename",
                    message: format!("File {index}: {e}."),
                    details: Some(json!({"index": index})),
                })?;
            let content_type = ContentType::parse_exact(&file.content_type)
                .filter(|t| limits.allowed_types.contains(t))
                .ok_or_else(|| ApiError::UnsupportedMediaType {
                    code: "unsupported_media_type",
                    message: format!(
                        "File {index}: `{}` is not accepted; send one of {}.",
                        file.content_type.chars().take(100).collect::<String>(),
                        limits
                            .allowed_types
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    details: Some(json!({"index": index})),
                })?;
            if file.size <= 0 {
                return Err(ApiError::Unprocessable {
                    code: "invalid_size",
                    message: format!("File {index}: the size must be a positive number of bytes."),
                    details: Some(json!({"index": index})),
                });
            }
            let size = file.size as u64;
            if size > limits.max_upload_bytes {
                return Err(ApiError::PayloadTooLarge {
                    code: "file_too_large",
                    message: format!(
                        "File {index} is {size} bytes; the limit is {} bytes.",
                        limits.max_upload_bytes
                    ),
                    details: Some(json!({"index": index, "maxBytes": limits.max_upload_bytes})),
                });
            }
            Ok(ValidFile {
                filename,
                content_type,
                size,
            })
        })
        .collect()
}

/// Validates the batch, creates `pending_upload` rows, and presigns one PUT per file.
#[tracing::instrument(skip(app, files), fields(user_id = %caller.user_id, files = files.len()))]
pub async fn generate_upload_urls(
    app: &App,
    caller: &Caller,
    files: &[FileRequest],
) -> Result<Vec<UploadTicket>, ApiError> {
    let valid = validate(app, files)?;
    let storage = app.storage()?;
    let rows: Vec<NewImage> = valid
        .iter()
        .map(|f| {
            let id = Uuid::now_v7();
            NewImage {
                id,
                user_id: caller.user_id,
                key: ImageKey::new(caller.user_id, id),
                filename: f.filename.as_str().to_string(),
                content_type: f.content_type,
                size: f.size,
            }
        })
        .collect();
    // Presign first: it is local computation, and a failure leaves no rows behind.
    let mut tickets = Vec::with_capacity(rows.len());
    for row in &rows {
        let presigned = storage
            .presign_upload(&row.key, row.content_type, row.size)
            .await
            .map_err(ApiError::internal)?;
        tickets.push(UploadTicket {
            image_id: row.id,
            key: row.key.to_string(),
            url: presigned.url,
            content_type: presigned.content_type,
            content_length: presigned.content_length,
            tagging: presigned.tagging,
            if_none_match: presigned.if_none_match,
            expires_at: presigned.expires_at,
        });
    }
    db::with_client(&app.pool, |client| {
        let rows = rows.clone();
        async move { images::insert_pending(&client, &rows).await }
    })
    .await?;
    tracing::info!(count = tickets.len(), "upload URLs issued");
    Ok(tickets)
}

/// What inspecting one uploaded object led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    Uploaded,
    Rejected(String),
    /// Recorded before (a repeated event): nothing changed.
    AlreadyRecorded(ImageStatus),
    /// The key is not one of ours, or no image row has it.
    UnknownKey,
    /// The row exists but the object is not (yet) in storage.
    ObjectMissing,
}

/// A failure worth retrying (database or storage trouble); the record can be redelivered.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Whether two ETags name the same version (S3 events carry them unquoted, HEAD quoted).
fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
}

/// Inspects an uploaded object and marks its image `uploaded` or `rejected` (deleting a
/// rejected object), recording the ETag of the version inspected. Safe to run any number
/// of times for the same key: a repeated event for the version already recorded changes
/// nothing, while an event whose `event_etag` names another version of an inspected
/// upload has it inspected again (and rejected if it fails), never silently kept.
#[tracing::instrument(skip(app), fields(key = raw_key))]
pub async fn record_upload(
    app: &App,
    raw_key: &str,
    event_etag: Option<&str>,
) -> Result<UploadOutcome, RecordError> {
    let Some(key) = ImageKey::parse(raw_key) else {
        tracing::warn!("ignoring an object key that is not an upload key");
        return Ok(UploadOutcome::UnknownKey);
    };
    let Some(storage) = app.storage.as_ref() else {
        return Err(StorageError::Other(anyhow::anyhow!("PHOTO_BUCKET is not configured")).into());
    };
    let row = db::with_client(&app.pool, |client| async move {
        images::find(&client, key.user_id, key.image_id).await
    })
    .await?;
    let Some(row) = row else {
        tracing::warn!("ignoring an upload with no image row");
        return Ok(UploadOutcome::UnknownKey);
    };
    let previous_etag = match row.status {
        ImageStatus::PendingUpload => None,
        ImageStatus::Uploaded => match (event_etag, row.etag.as_deref()) {
            (Some(event), Some(recorded)) if !same_etag(event, recorded) => {
                tracing::warn!(
                    recorded,
                    event,
                    "an inspected upload has a new version; inspecting it again"
                );
                Some(recorded.to_string())
            }
            _ => return Ok(UploadOutcome::AlreadyRecorded(row.status)),
        },
        ImageStatus::Rejected => return Ok(UploadOutcome::AlreadyRecorded(row.status)),
    };
    let head = match storage.head(&key).await {
        Ok(head) => head,
        Err(StorageError::NotFound) => return Ok(UploadOutcome::ObjectMissing),
        Err(e) => return Err(e.into()),
    };
    if let (Some(previous), Some(now)) = (previous_etag.as_deref(), head.etag.as_deref())
        && same_etag(previous, now)
    {
        // The event was about a version that is gone again; what is stored was inspected.
        return Ok(UploadOutcome::AlreadyRecorded(row.status));
    }
    let declared_type = ContentType::parse(&row.declared_content_type).unwrap_or(ContentType::Jpeg);
    let verdict = inspect_object(
        app,
        storage,
        &key,
        &head,
        declared_type,
        row.declared_size as u64,
    )
    .await?;
    let etag = head.etag.clone();
    match verdict {
        Ok(inspection) => {
            let changed = db::with_client(&app.pool, |client| {
                let inspection = inspection.clone();
                let (etag, previous) = (etag.clone(), previous_etag.clone());
                async move {
                    images::mark_uploaded(
                        &client,
                        key.image_id,
                        head.size,
                        &inspection,
                        etag.as_deref(),
                        previous.as_deref(),
                    )
                    .await
                }
            })
            .await?;
            storage.clear_pending_tag(&key).await;
            tracing::info!(
                changed,
                content_type = %inspection.content_type,
                width = inspection.width,
                height = inspection.height,
                etag = etag.as_deref().unwrap_or(""),
                "upload recorded"
            );
            Ok(UploadOutcome::Uploaded)
        }
        Err(rejection) => {
            let reason = rejection.to_string();
            db::with_client(&app.pool, |client| {
                let (reason, previous) = (reason.clone(), previous_etag.clone());
                async move {
                    images::mark_rejected(&client, key.image_id, &reason, previous.as_deref()).await
                }
            })
            .await?;
            // The row already says why; a failed delete is left to the bucket's lifecycle rule.
            if let Err(e) = storage.delete(&key).await {
                tracing::warn!(error = %e, "could not delete a rejected upload");
            }
            tracing::info!(%reason, "upload rejected");
            Ok(UploadOutcome::Rejected(reason))
        }
    }
}

/// Reads exactly the version `head` describes (a version replaced in between is
/// [`StorageError::Changed`], and the event is retried): its first bytes say what it is,
/// its structure read to the end whether it is whole. An upload is at most
/// `MAX_UPLOAD_BYTES` (its size was checked against the declared one first).
async fn inspect_object(
    app: &App,
    storage: &S3Store,
    key: &ImageKey,
    head: &ObjectHead,
    declared_type: ContentType,
    declared_size: u64,
) -> Result<Result<inspect::Inspection, Rejection>, StorageError> {
    let size = head.size;
    if size == 0 {
        return Ok(Err(Rejection::Empty));
    }
    if size != declared_size {
        return Ok(Err(Rejection::SizeMismatch {
            declared: declared_size,
            actual: size,
        }));
    }
    let bytes = storage.get(key, head.etag.as_deref()).await?;
    let first = &bytes[..bytes.len().min(HEAD_BYTES as usize)];
    let inspection = match inspect::inspect_head(
        first,
        bytes.len() as u64,
        declared_type,
        declared_size,
        app.config.limits.max_image_pixels,
    ) {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(inspect::check_whole(&inspection, &bytes).map(|()| inspection))
}
