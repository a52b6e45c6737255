//! Making a photo's renditions (thumbnail, preview, the model's copy) from one decode,
//! and storing them: when an upload is inspected, or later by the processor for a photo
//! inspected before renditions existed.

use crate::adapter::s3::{S3Store, StorageError};
use crate::domain::prepare::{self, DecodeLimits, PrepareError, Rendition};
use crate::domain::{ContentType, ImageKey};

/// Why no renditions were stored.
#[derive(Debug, thiserror::Error)]
pub enum RenditionError {
    /// The pixels cannot be decoded: the photo is unusable.
    #[error("{0}")]
    Unreadable(PrepareError),
    /// Not made, but nothing says the photo is bad: this build has no decoder for the type
    /// (HEIC without libheif), the decode would pass the memory bound, or the decoder
    /// thread failed. The photo is kept, without renditions.
    #[error("{0}")]
    Skipped(String),
    /// Storing them failed; worth retrying.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Decodes `bytes` once, makes every size and stores them under the image's rendition
/// keys, in parallel. Returns the model's copy, which the processor sends on.
#[tracing::instrument(skip(storage, bytes), fields(%key, bytes = bytes.len()))]
pub async fn make_renditions(
    storage: &S3Store,
    key: &ImageKey,
    bytes: bytes::Bytes,
    content_type: ContentType,
    orientation: Option<u8>,
    limits: DecodeLimits,
) -> Result<Rendition, RenditionError> {
    let started = std::time::Instant::now();
    let made = tokio::task::spawn_blocking(move || {
        prepare::render(&bytes, content_type, orientation, limits)
    })
    .await
    .map_err(|e| RenditionError::Skipped(format!("decoder thread: {e}")))?;
    let renditions = match made {
        Ok(r) => r,
        Err(e @ (PrepareError::Unsupported(_) | PrepareError::OverLimit(_))) => {
            return Err(RenditionError::Skipped(e.to_string()));
        }
        Err(e) => return Err(RenditionError::Unreadable(e)),
    };
    let rendered_ms = started.elapsed().as_millis() as u64;
    futures::future::try_join_all(renditions.iter().map(|r| async move {
        storage
            .put_rendition(&key.rendition(r.size), r.jpeg.clone())
            .await
    }))
    .await?;
    tracing::info!(
        rendered_ms,
        stored_ms = started.elapsed().as_millis() as u64 - rendered_ms,
        sizes = ?renditions.iter().map(|r| (r.size.as_str(), r.width, r.height, r.jpeg.len())).collect::<Vec<_>>(),
        "renditions stored"
    );
    renditions
        .into_iter()
        .find(|r| r.size == prepare::Size::Model)
        .ok_or_else(|| RenditionError::Unreadable(PrepareError::Decode("no model size".into())))
}
