//! Recording an upload: the object inspected (what it is, whether it is whole), the
//! image marked `uploaded` with the ETag of the version read and its renditions made, or
//! `rejected` and deleted.

use crate::adapter::postgres::{self as db, DbError};
use crate::adapter::s3::{ObjectHead, S3Store, StorageError};
use crate::app::App;
use crate::domain::inspect::{self, Inspection, Rejection};
use crate::domain::places::{self, Place};
use crate::domain::prepare::DecodeLimits;
use crate::domain::{ContentType, ImageKey, ImageStatus};
use crate::repo::deletions;
use crate::repo::images;
use crate::usecase::make_renditions::{RenditionError, make_renditions};

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

/// Whether recording an upload makes its renditions now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renditions {
    /// The S3 event: one upload per invocation, with the memory to decode it.
    Make,
    /// Settling lagging uploads inside an API request (up to 50 at once, within API
    /// Gateway's 30 s): inspect only; the processor makes the renditions.
    Later,
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
    renditions: Renditions,
) -> Result<UploadOutcome, RecordError> {
    let Some(key) = ImageKey::parse(raw_key) else {
        tracing::warn!("ignoring an object key that is not an upload key");
        return Ok(UploadOutcome::UnknownKey);
    };
    let storage = app.storage().map_err(StorageError::from)?;
    let row = db::with_client(&app.pool, |client| async move {
        images::find(&client, key.user_id, key.image_id).await
    })
    .await?;
    let Some(row) = row else {
        tracing::warn!("ignoring an upload with no image row");
        return Ok(UploadOutcome::UnknownKey);
    };
    if row.origin != "upload" {
        // A picture Momentarium made: its writer records it (this is its own put's event).
        return Ok(UploadOutcome::AlreadyRecorded(row.status));
    }
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
    let (verdict, bytes) = inspect_object(
        app,
        storage,
        &key,
        &head,
        declared_type,
        row.declared_size as u64,
    )
    .await?;
    let etag = head.etag.clone();
    // Renditions from the inspected bytes, before the row says `uploaded`: a crash in
    // between leaves the row pending and the redelivered event makes them again.
    let verdict = match verdict {
        Ok(inspection) if renditions == Renditions::Later => Ok((inspection, false)),
        Ok(inspection) => {
            let made = make_renditions(
                storage,
                &key,
                bytes,
                inspection.content_type,
                inspection.exif.orientation,
                DecodeLimits::with_max_pixels(app.config.limits.max_image_pixels),
            )
            .await;
            match made {
                Ok(_) => Ok((inspection, true)),
                Err(RenditionError::Skipped(why)) => {
                    tracing::warn!(%why, "kept without renditions");
                    Ok((inspection, false))
                }
                Err(RenditionError::Unreadable(why)) => {
                    Err(Rejection::Undecodable(why.to_string()))
                }
                Err(RenditionError::Storage(e)) => return Err(e.into()),
            }
        }
        Err(rejection) => Err(rejection),
    };
    match verdict {
        Ok((inspection, renditions)) => {
            let place = locate(&inspection).await;
            let changed = db::with_client(&app.pool, |client| {
                let (inspection, place) = (inspection.clone(), place.clone());
                let (etag, previous) = (etag.clone(), previous_etag.clone());
                async move {
                    let found = images::Inspected {
                        size: head.size,
                        inspection: &inspection,
                        etag: etag.as_deref(),
                        renditions,
                        place: place.as_ref(),
                    };
                    let changed =
                        images::mark_uploaded(&client, key.image_id, found, previous.as_deref())
                            .await?;
                    if !changed {
                        // Deleted while it was inspected: what was just made goes too.
                        deletions::queue_if_gone(&client, key.user_id, key.image_id).await?;
                    }
                    Ok(changed)
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
                place = place.as_ref().map(Place::label).unwrap_or_default(),
                "upload recorded"
            );
            Ok(UploadOutcome::Uploaded)
        }
        Err(rejection) => {
            let reason = rejection.to_string();
            let rejected_now = db::with_client(&app.pool, |client| {
                let (reason, previous) = (reason.clone(), previous_etag.clone());
                async move {
                    images::mark_rejected(&client, key.image_id, &reason, previous.as_deref()).await
                }
            })
            .await?;
            if !rejected_now {
                // Another event recorded this upload meanwhile: leave its object be, and
                // say what the row says now.
                tracing::info!(%reason, "a version was refused, but the row moved on; nothing deleted");
                let now = db::with_client(&app.pool, |client| async move {
                    images::find(&client, key.user_id, key.image_id).await
                })
                .await?;
                return Ok(UploadOutcome::AlreadyRecorded(
                    now.map_or(ImageStatus::Rejected, |row| row.status),
                ));
            }
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
) -> Result<(Result<inspect::Inspection, Rejection>, bytes::Bytes), StorageError> {
    let size = head.size;
    if size == 0 {
        return Ok((Err(Rejection::Empty), bytes::Bytes::new()));
    }
    if size != declared_size {
        return Ok((
            Err(Rejection::SizeMismatch {
                declared: declared_size,
                actual: size,
            }),
            bytes::Bytes::new(),
        ));
    }
    let bytes = storage.get(key, head.etag.as_deref()).await?;
    // All of it: EXIF, XMP and a HEIF's `meta` can lie past the first 256 KiB.
    let inspection = match inspect::inspect_head(
        &bytes,
        bytes.len() as u64,
        declared_type,
        declared_size,
        app.config.limits.max_image_pixels,
    ) {
        Ok(i) => i,
        Err(r) => return Ok((Err(r), bytes)),
    };
    let verdict = inspect::check_whole(&inspection, &bytes).map(|()| inspection);
    Ok((verdict, bytes))
}

/// The photo's place from its GPS (off the async threads: the first lookup of a process
/// loads the place tables).
async fn locate(inspection: &Inspection) -> Option<Place> {
    let (lat, lon) = inspection.exif.latitude.zip(inspection.exif.longitude)?;
    tokio::task::spawn_blocking(move || places::locate(lat, lon))
        .await
        .ok()
        .flatten()
}
